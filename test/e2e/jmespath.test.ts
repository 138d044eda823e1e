import { describe, expect, it } from 'vitest';
import { useCsiEnvironment } from '../harness/csi/environment.js';
import { createSecret, putParameter, putSecretValue } from '../harness/moto.js';

const env = useCsiEnvironment();
const region = 'ap-southeast-2';

const objects = [
  '- objectName: app/db',
  '  objectType: secretsmanager',
  '  objectAlias: db.json',
  '  jmesPath:',
  '    - path: username',
  '      objectAlias: db-user',
  '    - path: password',
  '      objectAlias: db-password',
  '      filePermission: "0600"',
  '- objectName: /app/endpoint',
  '  objectType: ssmparameter',
  '  objectAlias: endpoint.json',
  '  jmesPath:',
  '    - Path: host',
  '      ObjectAlias: db-host',
  '    - Path: ports[0]',
  '      ObjectAlias: db-port',
].join('\n');

describe('jmesPath files from JSON values, through the driver', () => {
  it('writes each key of a secret and a parameter as a file, and rotates the one key that changed', async () => {
    const dbV1 = JSON.stringify({ username: 'app', password: 'first-password' });
    const endpoint = JSON.stringify({ host: 'db.internal', ports: [5432, 5433] });
    const secret = await createSecret(region, 'app/db', dbV1);
    const parameter = await putParameter(region, '/app/endpoint', endpoint);
    await env.createSpc('jmespath', { parameters: { region, objects } });
    const pod = await env.pod('jmespath', 'jmespath');

    await pod.publish();

    const files = pod.files();
    expect(pod.contents()).toEqual({
      'db.json': dbV1,
      'db-user': 'app',
      'db-password': 'first-password',
      'endpoint.json': endpoint,
      'db-host': 'db.internal',
      // A number is written as its JSON text (ASCP would reject it).
      'db-port': '5432',
    });
    expect(files['db-password']?.mode).toBe(0o600);
    expect(files['db-user']?.mode).toBe(0o644);
    // jmesPath files carry the version of the value they come from.
    expect((await pod.podStatus())?.status.objects).toEqual([
      { id: 'db-host', version: String(parameter) },
      { id: 'db-password', version: secret.versionId },
      { id: 'db-port', version: String(parameter) },
      { id: 'db-user', version: secret.versionId },
      { id: 'db.json', version: secret.versionId },
      { id: 'endpoint.json', version: String(parameter) },
    ]);

    // Rotate the password only: the password file changes, the user file keeps its content.
    const dbV2 = JSON.stringify({ username: 'app', password: 'second-password' });
    const secretV2 = await putSecretValue(region, 'app/db', dbV2);
    await pod.republish();

    expect(pod.contents()).toEqual({
      'db.json': dbV2,
      'db-user': 'app',
      'db-password': 'second-password',
      'endpoint.json': endpoint,
      'db-host': 'db.internal',
      'db-port': '5432',
    });
    expect(pod.files()['db-password']?.mode).toBe(0o600);
    const versions = Object.fromEntries(((await pod.podStatus())?.status.objects ?? []).map((o) => [o.id, o.version]));
    expect(versions).toEqual({
      'db-host': String(parameter),
      'db-password': secretV2.versionId,
      'db-port': String(parameter),
      'db-user': secretV2.versionId,
      'db.json': secretV2.versionId,
      'endpoint.json': String(parameter),
    });

    await pod.unpublish();
  });
});
