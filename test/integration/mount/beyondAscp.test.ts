/**
 * The object keys beyond ASCP's (docs/objects.md) through the provider's socket against moto behind the fault proxy:
 * `jsonKeys: all`, `objectEncoding`, and wildcard objectNames (SSM GetParametersByPath, Secrets Manager
 * BatchGetSecretValue with a name filter), with their versions, their bad inputs and their AWS calls.
 */
import { randomBytes } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { createSecret, putParameter, putSecretValue } from '../../harness/moto.js';
import { useMountEnvironment } from '../../harness/mountEnvironment.js';
import type { MountResponseMessage } from '../../../src/server/proto.js';

const REGION = 'eu-west-1';
const FAILOVER = 'eu-central-1';
/** Matches above it fail the Mount: small, so the cap is reached with a few parameters (three pages of GetParametersByPath). */
const MAX_FILES = 24;
const env = useMountEnvironment({ providerEnv: { AWS_REGION: REGION }, providerArgs: [`--max-files-per-entry=${MAX_FILES}`] });
/** moto is shared by the run's files: every name here starts with this file's own prefix. */
const RUN = `beyond-${randomBytes(3).toString('hex')}`;

function files(response: MountResponseMessage): Record<string, string> {
  return Object.fromEntries(response.files.map((f) => [f.path, f.contents.toString()]));
}

function versions(response: MountResponseMessage): Record<string, string> {
  return Object.fromEntries(response.objectVersion.map((v) => [v.id, v.version]));
}

function fetchCalls(region = REGION): string[] {
  return env.proxy.records.filter((r) => r.service !== 'sts' && r.region === region).map((r) => `${r.service}:${r.action}`);
}

/** A refused Mount: its gRPC status, and every text in its message. */
async function refused(mount: Promise<MountResponseMessage>, code: status, mentions: string[], secrets: string[] = []) {
  const error = (await mount.then(
    () => {
      throw new Error('the Mount succeeded; it should have failed with no files');
    },
    (err: unknown) => err,
  )) as { code: number; details: string };
  expect(status[error.code]).toBe(status[code]);
  for (const text of mentions) expect(error.details).toContain(text);
  for (const secret of secrets) expect(error.details).not.toContain(secret);
}

describe('jsonKeys: all', () => {
  it('writes every top-level key of a JSON secret in the alias directory, with the version, and follows rotation', async () => {
    const name = `${RUN}/db`;
    const first = await createSecret(REGION, name, JSON.stringify({ user: 'admin', port: 5432, tls: { on: true } }));
    const who = await env.pod('json-keys');
    const objects = [{ objectName: name, objectType: 'secretsmanager', objectAlias: 'db', jsonKeys: 'all' }];

    const mounted = await env.mount(who, { objects });
    expect(files(mounted)).toEqual({ 'db/user': 'admin', 'db/port': '5432', 'db/tls': '{"on":true}' });
    expect(versions(mounted)).toEqual({ 'db/user': first.versionId, 'db/port': first.versionId, 'db/tls': first.versionId });
    expect(fetchCalls()).toEqual(['secretsmanager:BatchGetSecretValue']);

    // A key added and a key removed at rotation: the file set follows (the driver removes files no longer returned).
    const second = await putSecretValue(REGION, name, JSON.stringify({ user: 'admin', password: 'rotated' }));
    const rotated = await env.mount(who, { objects });
    expect(files(rotated)).toEqual({ 'db/user': 'admin', 'db/password': 'rotated' });
    expect(new Set(Object.values(versions(rotated)))).toEqual(new Set([second.versionId]));
  });

  it('refuses keys that become one file, or a value that is not a JSON object, naming the object and keys, never a value', async () => {
    await createSecret(REGION, `${RUN}/clash`, JSON.stringify({ 'a/b': 'hunter2', a_b: 'hunter3' }));
    await createSecret(REGION, `${RUN}/plain`, 'hunter2');
    const who = await env.pod('json-keys-bad');
    await refused(
      env.mount(who, { objects: [{ objectName: `${RUN}/clash`, objectType: 'secretsmanager', jsonKeys: 'all' }] }),
      status.INVALID_ARGUMENT,
      ['InvalidObjectValue', `objects[0] "${RUN}/clash"`, 'keys "a/b" and "a_b" both become file "a_b"'],
      ['hunter2', 'hunter3'],
    );
    await refused(
      env.mount(who, { objects: [{ objectName: `${RUN}/plain`, objectType: 'secretsmanager', jsonKeys: 'all' }] }),
      status.INVALID_ARGUMENT,
      ['InvalidObjectValue', `objects[0] "${RUN}/plain"`, 'not JSON', 'jsonKeys'],
      ['hunter2'],
    );
  });
});

describe('objectEncoding', () => {
  it('decodes base64 and hex strings, on an object and a jmesPath entry; a binary secret stays as it is', async () => {
    const keystore = randomBytes(64);
    await createSecret(REGION, `${RUN}/keystore`, keystore.toString('base64'));
    await putParameter(REGION, `/${RUN}/der`, keystore.toString('hex'), 'SecureString');
    await createSecret(REGION, `${RUN}/bundle`, JSON.stringify({ p12: keystore.toString('base64'), name: 'tls' }));
    await createSecret(REGION, `${RUN}/binary`, keystore);
    const who = await env.pod('encoding');

    const response = await env.mount(who, {
      objects: [
        { objectName: `${RUN}/keystore`, objectType: 'secretsmanager', objectAlias: 'keystore.jks', objectEncoding: 'base64' },
        { objectName: `/${RUN}/der`, objectType: 'ssmparameter', objectAlias: 'cert.der', objectEncoding: 'hex' },
        {
          objectName: `${RUN}/bundle`,
          objectType: 'secretsmanager',
          objectAlias: 'bundle.json',
          jmesPath: [{ path: 'p12', objectAlias: 'bundle.p12', objectEncoding: 'base64' }],
        },
        { objectName: `${RUN}/binary`, objectType: 'secretsmanager', objectAlias: 'binary', objectEncoding: 'base64' },
      ],
    });
    const byPath = new Map(response.files.map((f) => [f.path, Buffer.from(f.contents)]));
    expect(byPath.get('keystore.jks')).toEqual(keystore);
    expect(byPath.get('cert.der')).toEqual(keystore);
    expect(byPath.get('bundle.p12')).toEqual(keystore);
    expect(byPath.get('binary')).toEqual(keystore);
    expect(JSON.parse(byPath.get('bundle.json')!.toString())).toMatchObject({ name: 'tls' });
  });

  it('refuses a value that does not decode, naming the object and the encoding, never the value', async () => {
    await createSecret(REGION, `${RUN}/not-base64`, 'hunter2!');
    const who = await env.pod('encoding-bad');
    await refused(
      env.mount(who, { objects: [{ objectName: `${RUN}/not-base64`, objectType: 'secretsmanager', objectEncoding: 'base64' }] }),
      status.INVALID_ARGUMENT,
      ['InvalidObjectValue', `objects[0] "${RUN}/not-base64"`, 'objectEncoding base64'],
      ['hunter2'],
    );
    await refused(
      env.mount(who, { objects: [{ objectName: `${RUN}/not-base64`, objectType: 'secretsmanager', objectEncoding: 'base58' }] }),
      status.INVALID_ARGUMENT,
      ['InvalidSecretProviderClass', `objects[0] "${RUN}/not-base64"`, 'objectEncoding "base58"'],
    );
    expect(fetchCalls()).toEqual(['secretsmanager:BatchGetSecretValue']);
  });
});

describe('SSM parameters by path', () => {
  it('mounts the parameters one level below a path (*) or at any depth (**), named below it, each with its version', async () => {
    const root = `/${RUN}/app`;
    const token = await putParameter(REGION, `${root}/token`, 'tok-1');
    await putParameter(REGION, `${root}/token`, 'tok-2', 'String', true);
    const pass = await putParameter(REGION, `${root}/db/pass`, 'pw', 'SecureString');
    const deep = await putParameter(REGION, `${root}/db/replica/url`, 'pg://r');
    await putParameter(REGION, `/${RUN}/apparent`, 'not below the path');
    const who = await env.pod('by-path');

    const one = await env.mount(who, { objects: [{ objectName: `${root}/*`, objectType: 'ssmparameter', objectAlias: 'app' }] });
    expect(files(one)).toEqual({ 'app/token': 'tok-2' });
    expect(versions(one)).toEqual({ 'app/token': String(token + 1) });

    const any = await env.mount(who, {
      objects: [{ objectName: `${root}/**`, objectType: 'ssmparameter', objectAlias: 'app' }],
      parameters: { pathTranslation: 'False' },
    });
    expect(files(any)).toEqual({ 'app/token': 'tok-2', 'app/db/pass': 'pw', 'app/db/replica/url': 'pg://r' });
    expect(versions(any)).toEqual({ 'app/token': String(token + 1), 'app/db/pass': String(pass), 'app/db/replica/url': String(deep) });
    const byPath = env.proxy.records.filter((r) => r.action === 'GetParametersByPath');
    expect(byPath.map((r) => [r.body?.Recursive, r.body?.WithDecryption])).toEqual([
      [false, true],
      [true, true],
    ]);
  });

  it('pages through GetParametersByPath, 10 a call, and stops at the page that goes past --max-files-per-entry', async () => {
    const root = `/${RUN}/many`;
    for (let i = 0; i < MAX_FILES; i++) await putParameter(REGION, `${root}/p${i}`, `v${i}`);
    const who = await env.pod('by-path-pages');
    const objects = [{ objectName: `${root}/*`, objectType: 'ssmparameter', objectAlias: 'many' }];

    const all = await env.mount(who, { objects });
    expect(Object.keys(files(all))).toHaveLength(MAX_FILES);
    expect(fetchCalls()).toEqual(Array(3).fill('ssm:GetParametersByPath'));

    await putParameter(REGION, `${root}/p${MAX_FILES}`, 'one too many');
    env.proxy.clearRecords();
    await refused(env.mount(who, { objects }), status.INVALID_ARGUMENT, [
      'InvalidSecretProviderClass',
      `objects[0] "${root}/*": more than ${MAX_FILES} parameters under path ${root}`,
      '--max-files-per-entry',
    ]);
    expect(fetchCalls()).toEqual(Array(3).fill('ssm:GetParametersByPath'));
  });

  it('fails on an empty match unless the object allows it', async () => {
    await createSecret(REGION, `${RUN}/anchor`, 'x');
    const who = await env.pod('by-path-empty');
    const wildcard = { objectName: `/${RUN}/nothing/*`, objectType: 'ssmparameter', objectAlias: 'none' };
    await refused(env.mount(who, { objects: [wildcard] }), status.NOT_FOUND, [
      'ObjectNotFound',
      `objects[0] "/${RUN}/nothing/*": no parameters under path /${RUN}/nothing`,
      'allowEmpty: true',
    ]);
    const allowed = await env.mount(who, {
      objects: [{ ...wildcard, allowEmpty: true }, { objectName: `${RUN}/anchor`, objectType: 'secretsmanager', objectAlias: 'anchor' }],
    });
    expect(files(allowed)).toEqual({ anchor: 'x' });
  });

  it('fails over to the same path in the failover region when the region is unhealthy', async () => {
    const root = `/${RUN}/fo`;
    await putParameter(REGION, `${root}/a`, 'primary');
    const failover = await putParameter(FAILOVER, `${root}/a`, 'failover');
    const who = await env.pod('by-path-failover');
    env.proxy.setFault({ region: REGION, action: 'GetParametersByPath', kind: 'status', status: 503 });

    const response = await env.mount(who, {
      objects: [{ objectName: `${root}/*`, objectType: 'ssmparameter', objectAlias: 'fo' }],
      parameters: { failoverRegion: FAILOVER },
    });
    expect(files(response)).toEqual({ 'fo/a': 'failover' });
    expect(versions(response)).toEqual({ 'fo/a': String(failover) });
    expect(fetchCalls(FAILOVER)).toEqual(['ssm:GetParametersByPath']);
  });
});

describe('Secrets Manager by name prefix and tags', () => {
  it('mounts the secrets whose name starts with the prefix, one level (*) or any depth (**), paged 20 a call', async () => {
    const prefix = `${RUN}-pre`;
    const created = new Map<string, string>();
    for (let i = 0; i < 21; i++) created.set(`s${i}`, (await createSecret(REGION, `${prefix}/s${i}`, `value-${i}`)).versionId);
    await createSecret(REGION, `${prefix}/sub/deep`, 'deep');
    await createSecret(REGION, `${prefix}x/other`, 'not this prefix');
    const who = await env.pod('by-prefix');

    const one = await env.mount(who, {
      objects: [{ objectName: `${prefix}/*`, objectType: 'secretsmanager', objectAlias: 'pre' }],
      parameters: { pathTranslation: 'False' },
    });
    expect(files(one)).toEqual(Object.fromEntries([...created.keys()].map((k, i) => [`pre/${k}`, `value-${i}`])));
    expect(versions(one)).toEqual(Object.fromEntries([...created].map(([k, v]) => [`pre/${k}`, v])));
    const pages = env.proxy.records.filter((r) => r.action === 'BatchGetSecretValue');
    expect(pages).toHaveLength(2);
    expect(pages.map((r) => r.body?.Filters)).toEqual([
      [{ Key: 'name', Values: [`${prefix}/`] }],
      [{ Key: 'name', Values: [`${prefix}/`] }],
    ]);

    const any = await env.mount(who, { objects: [{ objectName: `${prefix}/**`, objectType: 'secretsmanager', objectAlias: 'pre' }] });
    expect(files(any)['pre/sub_deep']).toBe('deep');
    expect(Object.keys(files(any))).toHaveLength(22);
  });

  it('with tags, keeps the secrets that carry every tag exactly (AWS filters tags by prefix), then batches their values', async () => {
    const tagged = `${RUN}-tag`;
    const kept = await createSecret(REGION, `${tagged}/kept`, 'kept', { tags: { team: 'payments', env: 'prod' } });
    await createSecret(REGION, `${tagged}/prefix-only`, 'no', { tags: { teams: 'payments-old', env: 'prod' } });
    await createSecret(REGION, `${tagged}/swapped`, 'no', { tags: { team: 'prod', env: 'payments' } });
    const elsewhere = await createSecret(REGION, `${RUN}-elsewhere`, 'elsewhere', { tags: { team: 'payments', env: 'prod' } });
    const who = await env.pod('by-tags');

    const response = await env.mount(who, {
      objects: [
        { objectName: `${tagged}/*`, objectType: 'secretsmanager', objectAlias: 'pay', tags: { team: 'payments', env: 'prod' } },
        { objectName: '**', objectType: 'secretsmanager', objectAlias: 'all', tags: { team: 'payments', env: 'prod' } },
      ],
      parameters: { pathTranslation: 'False' },
    });
    expect(files(response)).toEqual({ 'pay/kept': 'kept', [`all/${tagged}/kept`]: 'kept', [`all/${RUN}-elsewhere`]: 'elsewhere' });
    expect(versions(response)['pay/kept']).toBe(kept.versionId);
    expect(versions(response)[`all/${RUN}-elsewhere`]).toBe(elsewhere.versionId);
    expect(fetchCalls().filter((c) => c === 'secretsmanager:ListSecrets')).toHaveLength(2);
    expect(env.proxy.records.filter((r) => r.action === 'BatchGetSecretValue').every((r) => r.body?.SecretIdList !== undefined)).toBe(true);
  });

  it('refuses a wildcard with a version or a failoverObject before any AWS call', async () => {
    const who = await env.pod('by-prefix-bad');
    await refused(
      env.mount(who, { objects: [{ objectName: `${RUN}-pre/*`, objectType: 'secretsmanager', objectVersionLabel: 'AWSPREVIOUS' }] }),
      status.INVALID_ARGUMENT,
      ['InvalidSecretProviderClass', `objects[0] "${RUN}-pre/*": objectVersionLabel cannot be used with a wildcard`],
    );
    await refused(
      env.mount(who, { objects: [{ objectName: `${RUN}/*/x`, objectType: 'secretsmanager' }] }),
      status.INVALID_ARGUMENT,
      [`objects[0] "${RUN}/*/x": objectName has a "*" that does not end it`],
    );
    expect(fetchCalls()).toEqual([]);
  });
});
