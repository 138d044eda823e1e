import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { createSecret } from '../../harness/moto.js';
import { useMountEnvironment, type PodIdentityFixture } from '../../harness/mountEnvironment.js';
import { mountRequest } from '../../fixtures/mountRequest.js';
import type { MountRequestMessage } from '../../../src/server/proto.js';

const REGION = 'us-east-1';
const env = useMountEnvironment({ providerEnv: { AWS_REGION: REGION } });
const ARN = (region: string, name: string) => `arn:aws:secretsmanager:${region}:123456789012:secret:${name}-AbCdEf`;
const SM = { objectType: 'secretsmanager' };

interface BadCase {
  name: string;
  objects: string | unknown[];
  parameters?: Record<string, string>;
  /** Every pattern must be in the message: the object, the field, the fix. */
  message: RegExp[];
  code?: status;
}

const cases: BadCase[] = [
  { name: 'malformed YAML', objects: '- objectName: [unclosed', message: [/objects/, /YAML/i] },
  { name: 'objects is a map, not a list', objects: 'objectName: x\nobjectType: secretsmanager', message: [/objects/, /list/i] },
  { name: 'objects is empty', objects: '[]', message: [/objects/] },
  { name: 'an entry is not a map', objects: '- just-a-string', message: [/objects\[0\]/] },
  { name: 'unknown key', objects: [{ objectName: 'a', ...SM, objectAliass: 'b' }], message: [/objectAliass/, /objectAlias/] },
  { name: 'missing objectName', objects: [{ ...SM, objectAlias: 'x' }], message: [/objects\[0\]/, /objectName/] },
  { name: 'empty objectName', objects: [{ objectName: '', ...SM }], message: [/objects\[0\]/, /objectName/] },
  { name: 'objectName not a string', objects: [{ objectName: ['a'], ...SM }], message: [/objects\[0\]/, /objectName/] },
  { name: 'objectType "ssm" (not a type name)', objects: [{ objectName: 'plain', objectType: 'ssm' }], message: [/"plain"/, /objectType/, /ssmparameter/] },
  { name: 'unknown objectType', objects: [{ objectName: 'a', objectType: 'vault' }], message: [/"a"/, /objectType/, /vault/] },
  { name: 'ARN of another service', objects: [{ objectName: 'arn:aws:s3:::bucket/key' }], message: [/objects\[0\]/, /ARN/] },
  { name: 'malformed secrets manager ARN', objects: [{ objectName: 'arn:aws:secretsmanager:us-east-1:123456789012' }], message: [/objects\[0\]/, /ARN/] },
  { name: 'ARN region differs from region', objects: [{ objectName: ARN('eu-west-1', 'x') }], message: [/objects\[0\]/, /eu-west-1/, /us-east-1/] },
  { name: 'ARN type disagrees with objectType', objects: [{ objectName: ARN(REGION, 'x'), objectType: 'ssmparameter' }], message: [/objects\[0\]/, /objectType/] },
  { name: 'SSM ARN region differs', objects: [{ objectName: 'arn:aws:ssm:eu-west-1:123456789012:parameter/p' }], message: [/objects\[0\]/, /eu-west-1/] },
  { name: 'filePermission of three digits', objects: [{ objectName: 'a', ...SM, filePermission: '644' }], message: [/"a"/, /filePermission/] },
  { name: 'filePermission not octal', objects: [{ objectName: 'a', ...SM, filePermission: '0999' }], message: [/"a"/, /filePermission/] },
  { name: 'filePermission words', objects: [{ objectName: 'a', ...SM, filePermission: 'rw-r--r--' }], message: [/"a"/, /filePermission/] },
  { name: 'SSM with both version and label', objects: [{ objectName: 'p', objectType: 'ssmparameter', objectVersion: '1', objectVersionLabel: 'l' }], message: [/"p"/, /objectVersion/, /objectVersionLabel/] },
  { name: 'SSM version not a number', objects: [{ objectName: 'p', objectType: 'ssmparameter', objectVersion: 'abc' }], message: [/"p"/, /objectVersion/] },
  { name: 'two objects write the same file', objects: [{ objectName: 'a', ...SM }, { objectName: 'b', ...SM, objectAlias: 'a' }], message: [/objects\[0\]/, /objects\[1\]/, /objectAlias/] },
  { name: 'alias with .. and translation off', objects: [{ objectName: 'a', ...SM, objectAlias: '../escape' }], parameters: { pathTranslation: 'False' }, message: [/"a"/, /\.\./] },
  { name: 'alias with an empty element and translation off', objects: [{ objectName: 'a', ...SM, objectAlias: 'dir//file' }], parameters: { pathTranslation: 'False' }, message: [/"a"/, /dir\/\/file/] },
  { name: 'name climbing out with translation off', objects: [{ objectName: 'a/../../b', ...SM }], parameters: { pathTranslation: 'False' }, message: [/objects\[0\]/, /\.\./] },
  { name: 'alias of only dots', objects: [{ objectName: 'a', ...SM, objectAlias: '..' }], message: [/"a"/, /\.\./] },
  { name: 'jmesPath not a list', objects: [{ objectName: 'a', ...SM, jmesPath: 'username' }], message: [/"a"/, /jmesPath/] },
  { name: 'jmesPath entry without path', objects: [{ objectName: 'a', ...SM, jmesPath: [{ objectAlias: 'u' }] }], message: [/"a"/, /path/] },
  { name: 'jmesPath entry without objectAlias', objects: [{ objectName: 'a', ...SM, jmesPath: [{ path: 'u' }] }], message: [/"a"/, /objectAlias/] },
  { name: 'jmesPath expression that does not compile', objects: [{ objectName: 'a', ...SM, jmesPath: [{ path: 'a[', objectAlias: 'u' }] }], message: [/"a"/, /a\[/] },
  { name: 'jmesPath unknown key', objects: [{ objectName: 'a', ...SM, jmesPath: [{ path: 'u', objectAlias: 'u', mode: '0600' }] }], message: [/"a"/, /mode/] },
  { name: 'jmesPath file collides with an object file', objects: [{ objectName: 'a', ...SM, jmesPath: [{ path: 'u', objectAlias: 'a' }] }], message: [/"a"/, /objectAlias/] },
  { name: 'jmesPath bad filePermission', objects: [{ objectName: 'a', ...SM, jmesPath: [{ path: 'u', objectAlias: 'u', filePermission: '9' }] }], message: [/"a"/, /filePermission/] },
  { name: 'failoverObject without failoverRegion', objects: [{ objectName: 'a', ...SM, objectAlias: 'x', failoverObject: { objectName: 'b' } }], message: [/"a"/, /failoverRegion/] },
  { name: 'failoverObject without objectAlias', objects: [{ objectName: 'a', ...SM, failoverObject: { objectName: 'b' } }], parameters: { failoverRegion: 'us-west-2' }, message: [/"a"/, /objectAlias/] },
  { name: 'failoverObject version differs', objects: [{ objectName: 'a', ...SM, objectAlias: 'x', objectVersion: 'v1', failoverObject: { objectName: 'b', objectVersion: 'v2' } }], parameters: { failoverRegion: 'us-west-2' }, message: [/"a"/, /objectVersion/] },
  { name: 'failoverObject ARN not in failoverRegion', objects: [{ objectName: 'a', ...SM, objectAlias: 'x', failoverObject: { objectName: ARN('eu-west-1', 'b') } }], parameters: { failoverRegion: 'us-west-2' }, message: [/"a"/, /us-west-2/] },
  { name: 'failoverObject list of two', objects: [{ objectName: 'a', ...SM, objectAlias: 'x', failoverObject: [{ objectName: 'b' }, { objectName: 'c' }] }], parameters: { failoverRegion: 'us-west-2' }, message: [/"a"/, /failoverObject/] },
  { name: 'failoverObject without objectName', objects: [{ objectName: 'a', ...SM, objectAlias: 'x', failoverObject: { objectVersion: 'v' } }], parameters: { failoverRegion: 'us-west-2' }, message: [/"a"/, /failoverObject/, /objectName/] },
  { name: 'failoverObject unknown key', objects: [{ objectName: 'a', ...SM, objectAlias: 'x', failoverObject: { objectName: 'b', region: 'x' } }], parameters: { failoverRegion: 'us-west-2' }, message: [/"a"/, /region/] },
  { name: 'pathTranslation of two characters', objects: [{ objectName: 'a', ...SM }], parameters: { pathTranslation: '__' }, message: [/pathTranslation/] },
  { name: 'failoverRegion equals region', objects: [{ objectName: 'a', ...SM }], parameters: { region: REGION, failoverRegion: REGION }, message: [/failoverRegion/] },
  { name: 'failoverRegion equals the provider region', objects: [{ objectName: 'a', ...SM }], parameters: { failoverRegion: REGION }, message: [/failoverRegion/] },
  { name: 'usePodIdentity not a boolean', objects: [{ objectName: 'a', ...SM }], parameters: { usePodIdentity: 'yes' }, message: [/usePodIdentity/] },
];

async function expectRejected(request: Promise<unknown>, code: status, patterns: RegExp[]) {
  const error = (await request.then(
    () => {
      throw new Error('the Mount succeeded; it should have failed and returned no files');
    },
    (err: unknown) => err,
  )) as { code: number; details: string };
  expect(status[error.code]).toBe(status[code]);
  for (const pattern of patterns) expect(error.details).toMatch(pattern);
  return error;
}

describe('a bad SecretProviderClass gets a clear error and no files', () => {
  let who: PodIdentityFixture;
  it.each(cases)('$name', async ({ objects, parameters, message, code = status.INVALID_ARGUMENT }) => {
    who ??= await env.pod('bad-spc');
    await expectRejected(env.mount(who, { objects, parameters }), code, message);
    // Validation happens before any I/O: nothing was asked of AWS.
    expect(env.proxy.records).toHaveLength(0);
  });
});

describe('a bad request gets a clear error and no files', () => {
  const raw = (who: PodIdentityFixture, edit: (request: MountRequestMessage) => MountRequestMessage) =>
    env.provider.client.mount(edit(mountRequest({ pod: who.pod, tokens: who.tokens, objects: [{ objectName: 'a', ...SM }] })));

  it('attributes that are not JSON', async () => {
    const who = await env.pod('bad-request');
    await expectRejected(raw(who, (r) => ({ ...r, attributes: '{not json' })), status.INVALID_ARGUMENT, [/attributes/]);
  });

  it('a permission that is not a number', async () => {
    const who = await env.pod('bad-request');
    await expectRejected(raw(who, (r) => ({ ...r, permission: 'rw' })), status.INVALID_ARGUMENT, [/permission/]);
  });

  it('no pod namespace attribute', async () => {
    const who = await env.pod('bad-request');
    const withoutNamespace = (r: MountRequestMessage) => {
      const attributes = JSON.parse(r.attributes) as Record<string, string>;
      delete attributes['csi.storage.k8s.io/pod.namespace'];
      return { ...r, attributes: JSON.stringify(attributes) };
    };
    await expectRejected(raw(who, withoutNamespace), status.INVALID_ARGUMENT, [/pod\.namespace/, /podInfoOnMount/]);
  });

  it('a tokens attribute that is not JSON, without echoing it', async () => {
    const who = await env.pod('bad-request');
    const error = await expectRejected(
      env.mount(who, { objects: [{ objectName: 'a', ...SM }], tokens: '{"sts.amazonaws.com": {"token": "eyJzecret' }),
      status.INVALID_ARGUMENT,
      [/serviceAccount\.tokens/],
    );
    expect(error.details).not.toContain('eyJzecret');
  });

  it('no objects parameter', async () => {
    const who = await env.pod('bad-request');
    const withoutObjects = (r: MountRequestMessage) => {
      const attributes = JSON.parse(r.attributes) as Record<string, string>;
      delete attributes.objects;
      return { ...r, attributes: JSON.stringify(attributes) };
    };
    await expectRejected(raw(who, withoutObjects), status.INVALID_ARGUMENT, [/objects/]);
  });
});

describe('values and identities that cannot be mounted', () => {
  it('a jmesPath on a secret that is not JSON names the object, never the value', async () => {
    await createSecret(REGION, 'not-json', 'plain text value 123');
    const who = await env.pod('bad-value');
    const error = await expectRejected(
      env.mount(who, { objects: [{ objectName: 'not-json', ...SM, jmesPath: [{ path: 'user', objectAlias: 'u' }] }] }),
      status.INVALID_ARGUMENT,
      [/"not-json"/, /JSON/],
    );
    expect(error.details).not.toContain('plain text value');
  });

  it('a jmesPath that finds nothing names the path and the object', async () => {
    await createSecret(REGION, 'json', JSON.stringify({ user: 'u' }));
    const who = await env.pod('bad-value');
    await expectRejected(
      env.mount(who, { objects: [{ objectName: 'json', ...SM, jmesPath: [{ path: 'password', objectAlias: 'p' }] }] }),
      status.INVALID_ARGUMENT,
      [/"json"/, /password/],
    );
  });

  it('no token for sts.amazonaws.com says which tokenRequests audience to add', async () => {
    const who = await env.pod('no-token');
    const tokens = JSON.stringify({ 'other-audience': { token: 't', expirationTimestamp: '2030-01-01T00:00:00Z' } });
    await expectRejected(
      env.mount(who, { objects: [{ objectName: 'a', ...SM }], tokens }),
      status.INVALID_ARGUMENT,
      [/sts\.amazonaws\.com/, /tokenRequests/],
    );
    expect(env.proxy.records).toHaveLength(0);
  });

  it('no Pod Identity token says which tokenRequests audience to add', async () => {
    const who = await env.pod('no-pi-token');
    const tokens = JSON.stringify({ 'sts.amazonaws.com': { token: 't', expirationTimestamp: '2030-01-01T00:00:00Z' } });
    await expectRejected(
      env.mount(who, { objects: [{ objectName: 'a', ...SM }], tokens, parameters: { usePodIdentity: 'true' } }),
      status.INVALID_ARGUMENT,
      [/pods\.eks\.amazonaws\.com/, /tokenRequests/],
    );
  });

  it('a service account without the role annotation says how to fix it', async () => {
    const who = await env.pod('no-role', { roleArn: null });
    await expectRejected(env.mount(who, { objects: [{ objectName: 'a', ...SM }] }), status.FAILED_PRECONDITION, [
      new RegExp(`${env.namespace}/no-role-sa`),
      /eks\.amazonaws\.com\/role-arn/,
    ]);
    expect(env.proxy.records).toHaveLength(0);
  });
});
