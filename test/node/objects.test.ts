/**
 * The object keys beyond ASCP (docs/objects.md) in running pods on the real node: a JSON secret's keys as files that
 * follow a key added and a key removed at rotation, a wildcard over an SSM path, and a base64 keystore written as
 * bytes, each read inside the pod.
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSecretProviderClass } from '../harness/csi/cluster.js';
import { coreV1 } from '../harness/kube.js';
import { createSecret, putParameter, putSecretValue } from '../harness/moto.js';
import { appPod, useNodeProvider, waitForView, waitPodRunning } from '../harness/node/workloads.js';

const NAMESPACE = 'node-objects';
const provider = useNodeProvider(NAMESPACE);
const REGION = 'us-west-2';
/** As rotation.test.ts: kubelet re-publishes on its pod sync, 13 to 83 s seen on 2 busy cores. */
const ROTATION_BOUND_MS = 150_000;

async function startPod(name: string, objects: string, parameters: Record<string, string> = {}): Promise<void> {
  await createSecretProviderClass(NAMESPACE, name, { parameters: { region: REGION, objects, ...parameters } });
  const body = appPod({ namespace: NAMESPACE, name, serviceAccountName: 'app', spc: name, walk: true });
  await coreV1().createNamespacedPod({ namespace: NAMESPACE, body });
  await waitPodRunning(NAMESPACE, name);
}

describe('objects beyond ASCP in a running pod', () => {
  it("jsonKeys: a JSON secret's keys are files; a key added at rotation appears and a removed one disappears", async () => {
    await createSecret(REGION, 'NodeJsonKeys', JSON.stringify({ username: 'alice', password: 'pw-1', port: 5432 }));
    await startPod('keys', '- {objectName: NodeJsonKeys, objectType: secretsmanager, objectAlias: db, jsonKeys: all}\n');
    const first = await waitForView(NAMESPACE, 'keys', (v) => Object.keys(v.files).length > 0);
    expect(first.files).toEqual({ 'db/username': 'alice', 'db/password': 'pw-1', 'db/port': '5432' });

    await putSecretValue(REGION, 'NodeJsonKeys', JSON.stringify({ username: 'alice', password: 'pw-2', host: 'db-2' }));
    const rotated = await waitForView(NAMESPACE, 'keys', (v) => v.files['db/password'] === 'pw-2', ROTATION_BOUND_MS);
    expect(rotated.files).toEqual({ 'db/username': 'alice', 'db/password': 'pw-2', 'db/host': 'db-2' });
  });

  it('a wildcard over an SSM path, and a base64 keystore written as bytes (checksum inside the pod)', async () => {
    await putParameter(REGION, '/node/app/db/url', 'postgres://db');
    await putParameter(REGION, '/node/app/token', 'tok', 'SecureString');
    await putParameter(REGION, '/node/other', 'not below the path');
    const keystore = randomBytes(2048);
    await createSecret(REGION, 'NodeKeystore', keystore.toString('base64'));
    await startPod(
      'wild',
      [
        '- {objectName: /node/app/**, objectType: ssmparameter, objectAlias: app}',
        '- {objectName: NodeKeystore, objectType: secretsmanager, objectAlias: keystore.jks, objectEncoding: base64}',
        '',
      ].join('\n'),
    );
    const view = await waitForView(NAMESPACE, 'wild', (v) => Object.keys(v.sha).length > 0);
    expect(Object.keys(view.sha).sort()).toEqual(['app/db_url', 'app/token', 'keystore.jks']);
    expect(view.files['app/db_url']).toBe('postgres://db');
    expect(view.files['app/token']).toBe('tok');
    expect(view.sha['keystore.jks']).toBe(createHash('sha256').update(keystore).digest('hex'));
    const byPath = provider().proxy.records.filter((r) => r.action === 'GetParametersByPath');
    expect(byPath.length).toBeGreaterThan(0);
    expect(byPath.every((r) => r.body?.Path === '/node/app' && r.body?.Recursive === true)).toBe(true);
  });
});
