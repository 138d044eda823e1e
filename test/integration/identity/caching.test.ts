import { describe, expect, it } from 'vitest';
import { auditedGets } from '../../harness/audit.js';
import { createSecret } from '../../harness/moto.js';
import { useMountEnvironment } from '../../harness/mountEnvironment.js';
import { issuedAccessKeys } from './support.js';

const REGION = 'ca-central-1';
const objects = [{ objectName: 'team/api-key', objectType: 'secretsmanager' }];
const stsCalls = (records: readonly { service?: string }[]) => records.filter((r) => r.service === 'sts');

describe('credential and lookup caches (default margin)', () => {
  const env = useMountEnvironment({ providerEnv: { AWS_REGION: REGION } });

  it('50 concurrent Mounts of one identity: 1 ServiceAccount GET (apiserver audit log) and 1 STS call', async () => {
    await createSecret(REGION, 'team/api-key', 'k');
    const who = await env.pod('storm');

    const responses = await Promise.all(Array.from({ length: 50 }, () => env.mount(who, { objects })));

    expect(responses.every((r) => r.files[0]?.contents.toString() === 'k')).toBe(true);
    expect(stsCalls(env.proxy.records)).toHaveLength(1);
    expect(await auditedGets('serviceaccounts', env.namespace, 'storm-sa')).toBe(1);
  });

  it('50 concurrent Mounts share the Secrets Manager call in flight: 1 BatchGetSecretValue', async () => {
    await createSecret(REGION, 'team/api-key', 'k');
    const who = await env.pod('storm-fetch');
    // Holds the first call in flight so that every Mount arrives while it is outstanding.
    env.proxy.setFault({ service: 'secretsmanager', kind: 'delay', ms: 3_000 });

    const responses = await Promise.all(Array.from({ length: 50 }, () => env.mount(who, { objects })));

    expect(responses.every((r) => r.files[0]?.contents.toString() === 'k')).toBe(true);
    expect(env.proxy.records.filter((r) => r.service === 'secretsmanager')).toHaveLength(1);
  });

  it('a repeat Mount makes no STS call and no ServiceAccount GET', async () => {
    await createSecret(REGION, 'team/api-key', 'k');
    const who = await env.pod('repeat');
    await env.mount(who, { objects });
    env.proxy.clearRecords();

    await env.mount(who, { objects });

    expect(stsCalls(env.proxy.records)).toHaveLength(0);
    expect(env.proxy.records.filter((r) => r.service === 'secretsmanager')).toHaveLength(1);
    expect(await auditedGets('serviceaccounts', env.namespace, 'repeat-sa')).toBe(1);
  });

  it('two service accounts mounting one secret: two STS calls, each fetch signed by its own role', async () => {
    await createSecret(REGION, 'team/api-key', 'k');
    const a = await env.pod('tenant-a', { roleArn: 'arn:aws:iam::123456789012:role/tenant-a' });
    const b = await env.pod('tenant-b', { roleArn: 'arn:aws:iam::123456789012:role/tenant-b' });

    // Sequential first, so each fetch in the proxy's record belongs to a known pod.
    await env.mount(a, { objects });
    await env.mount(b, { objects });
    const [keyA] = await issuedAccessKeys(a.roleArn!);
    const [keyB] = await issuedAccessKeys(b.roleArn!);
    expect(keyA).toBeDefined();
    expect(keyB).not.toBe(keyA);
    const fetched = env.proxy.records.filter((r) => r.service === 'secretsmanager').map((r) => r.accessKeyId);
    expect(fetched).toEqual([keyA, keyB]);

    // Then interleaved and concurrent: still no new session, and only those two keys ever sign.
    env.proxy.clearRecords();
    await Promise.all(Array.from({ length: 20 }, (_, i) => env.mount(i % 2 ? b : a, { objects })));
    expect(stsCalls(env.proxy.records)).toHaveLength(0);
    const signers = new Set(env.proxy.records.filter((r) => r.service === 'secretsmanager').map((r) => r.accessKeyId));
    expect(signers).toEqual(new Set([keyA, keyB]));
    expect(await issuedAccessKeys(a.roleArn!)).toHaveLength(1);
    expect(await issuedAccessKeys(b.roleArn!)).toHaveLength(1);
  });

  it('two service accounts mounting at once, each its own secret: every request is signed by the owner of what it asks for', async () => {
    await createSecret(REGION, 'tenant-c/key', 'c');
    await createSecret(REGION, 'tenant-d/key', 'd');
    const c = await env.pod('tenant-c', { roleArn: 'arn:aws:iam::123456789012:role/tenant-c' });
    const d = await env.pod('tenant-d', { roleArn: 'arn:aws:iam::123456789012:role/tenant-d' });
    const objectsOf = (name: string) => [{ objectName: `${name}/key`, objectType: 'secretsmanager' }];
    // A little latency, so that both identities' calls are in flight together, interleaved.
    env.proxy.setFault({ kind: 'delay', ms: 50 });

    // Each Mount with a file mode of its own, so that no two share a fetch and every one picks its clients.
    const modes = ['420', '416', '384', '292', '256', '436', '432', '400', '288', '260'];
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => {
        const permission = modes[Math.floor(i / 2)]!;
        return i % 2
          ? env.mount(d, { objects: objectsOf('tenant-d'), permission })
          : env.mount(c, { objects: objectsOf('tenant-c'), permission });
      }),
    );

    responses.forEach((response, i) => expect(response.files[0]!.contents.toString()).toBe(i % 2 ? 'd' : 'c'));
    const [keyC] = await issuedAccessKeys(c.roleArn!);
    const [keyD] = await issuedAccessKeys(d.roleArn!);
    const fetches = env.proxy.records.filter((r) => r.service === 'secretsmanager');
    expect(fetches.length).toBeGreaterThanOrEqual(2);
    for (const fetch of fetches) {
      expect(fetch.secretIds, 'one tenant per call').toHaveLength(1);
      expect(fetch.accessKeyId).toBe(fetch.secretIds[0] === 'tenant-c/key' ? keyC : keyD);
    }
  });

  it('two pods of one service account are one identity: one STS call, named after the first pod', async () => {
    await createSecret(REGION, 'team/api-key', 'k');
    const first = await env.pod('replica-1', { serviceAccount: 'replicas' });
    const second = await env.pod('replica-2', { serviceAccount: 'replicas' });

    await env.mount(first, { objects });
    await env.mount(second, { objects });

    const sts = stsCalls(env.proxy.records) as { roleSessionName?: string }[];
    expect(sts).toHaveLength(1);
    expect(sts[0]!.roleSessionName).toBe(`${env.namespace}.replica-1`);
  });
});

describe('credentials near expiry', () => {
  // A margin above moto's 1-hour web-identity sessions: every credential is near expiry as soon as it arrives.
  const env = useMountEnvironment({ providerEnv: { AWS_REGION: REGION }, providerArgs: ['--credential-refresh-margin=2h'] });

  it('are obtained afresh on every Mount, while the ServiceAccount lookup stays cached', async () => {
    await createSecret(REGION, 'team/api-key', 'k');
    const who = await env.pod('short-lived');

    for (let i = 0; i < 3; i++) await env.mount(who, { objects });

    expect(stsCalls(env.proxy.records)).toHaveLength(3);
    const signers = env.proxy.records.filter((r) => r.service === 'secretsmanager').map((r) => r.accessKeyId);
    expect(new Set(signers).size).toBe(3);
    expect(await auditedGets('serviceaccounts', env.namespace, 'short-lived-sa')).toBe(1);
  });

  it('concurrent Mounts still share the one refresh in flight', async () => {
    await createSecret(REGION, 'team/api-key', 'k');
    const who = await env.pod('short-storm');
    // Holds the STS call in flight so that every Mount arrives while it is outstanding.
    env.proxy.setFault({ service: 'sts', kind: 'delay', ms: 2_000 });

    await Promise.all(Array.from({ length: 20 }, () => env.mount(who, { objects })));

    expect(stsCalls(env.proxy.records)).toHaveLength(1);
  });
});
