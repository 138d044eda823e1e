import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountRequest } from '../../fixtures/mountRequest.js';
import type { FaultRule } from '../../harness/faultProxy.js';
import { startFaultProxy, type FaultProxy } from '../../harness/faultProxy.js';
import { createServiceAccount, ensureNamespace, serviceAccountTokens } from '../../harness/kube.js';
import { putParameter } from '../../harness/moto.js';
import { IRSA_AUDIENCE, ROLE_ANNOTATION, useMountEnvironment } from '../../harness/mountEnvironment.js';
import { usePeers } from '../../harness/peers.js';
import { startProvider, type RunningProvider } from '../../harness/provider.js';
import { freePort } from '../../harness/start/net.js';
import {
  expectGoodMount,
  mountFailure,
  openKubeDoor,
  providerCode,
  SEEDED_OBJECTS,
  seedRegions,
  type KubeDoor,
} from './support.js';

const PRIMARY = 'us-east-1';
const FAILOVER = 'us-west-2';

describe('regional faults, with a per-attempt timeout below the delay', () => {
  // Two attempts of 500 ms each: a proxy delay of 2 s exceeds every attempt, well inside the 5 s deadline.
  const env = useMountEnvironment({
    // --throttle-wait=0: a throttled first mount fails at once here, as ASCP's does (throttledRegion.test.ts waits).
    providerArgs: ['--mount-timeout=5s', '--aws-request-timeout=500ms', '--aws-max-attempts=2', '--throttle-wait=0'],
  });
  const PRIMARY_FAULTS: [string, FaultRule][] = [
    ['500', { region: PRIMARY, kind: 'status', status: 500 }],
    ['503', { region: PRIMARY, kind: 'status', status: 503 }],
    ['throttled', { region: PRIMARY, kind: 'throttle' }],
    ['slower than --aws-request-timeout', { region: PRIMARY, kind: 'delay', ms: 2000 }],
    ['dropping connections', { region: PRIMARY, kind: 'drop' }],
    ['truncating answers', { region: PRIMARY, kind: 'truncate' }],
  ];
  const slug = (name: string) => name.replace(/\W+/g, '-').replace(/^-|-$/g, '');

  it.each(PRIMARY_FAULTS)('primary %s → the failover value; the next Mount is served', async (name, fault) => {
    const seeded = await seedRegions([PRIMARY, FAILOVER]);
    const who = await env.pod(`fo-${slug(name)}`);
    env.proxy.setFault(fault);

    const response = await env.mount(who, {
      parameters: { region: PRIMARY, failoverRegion: FAILOVER },
      objects: SEEDED_OBJECTS,
    });

    const files = Object.fromEntries(response.files.map((f) => [f.path, f.contents.toString()]));
    expect(files).toEqual({ db: `db-in-${FAILOVER}`, flag: `flag-in-${FAILOVER}` });
    expect(response.objectVersion).toEqual(
      expect.arrayContaining([
        { id: 'db', version: seeded[FAILOVER]!.secretVersion },
        { id: 'flag', version: String(seeded[FAILOVER]!.parameterVersion) },
      ]),
    );
    env.proxy.clearFaults();
    await expectGoodMount(env, who, PRIMARY);
  });

  it.each(PRIMARY_FAULTS)('primary %s, no failover → UNAVAILABLE naming the region, no files', async (name, fault) => {
    await seedRegions([PRIMARY]);
    const who = await env.pod(`nofo-${slug(name)}`);
    env.proxy.setFault(fault);

    const error = await mountFailure(env.mount(who, { parameters: { region: PRIMARY }, objects: SEEDED_OBJECTS }));

    expect(error.code).toBe(status.UNAVAILABLE);
    expect(providerCode(error)).toBe('RegionUnavailable');
    expect(error.details).toContain(PRIMARY);
    expect(error.details).toMatch(/ops\/db|\/ops\/flag/);
    env.proxy.clearFaults();
    await expectGoodMount(env, who, PRIMARY);
  });

  it('STS dropping connections → UNAVAILABLE CredentialsUnavailable naming STS and the role; nothing fetched', async () => {
    await seedRegions([PRIMARY]);
    const who = await env.pod('sts-down');
    env.proxy.setFault({ service: 'sts', kind: 'drop' });

    const error = await mountFailure(env.mount(who, { parameters: { region: PRIMARY }, objects: SEEDED_OBJECTS }));

    expect(error.code).toBe(status.UNAVAILABLE);
    expect(providerCode(error)).toBe('CredentialsUnavailable');
    expect(error.details).toMatch(/STS/);
    expect(error.details).toContain(PRIMARY);
    expect(error.details).toContain('role/sts-down-sa');
    expect(env.proxy.records.filter((r) => r.service !== 'sts')).toHaveLength(0);
    env.proxy.clearFaults();
    await expectGoodMount(env, who, PRIMARY);
  });

  it('STS slower than --aws-request-timeout once → the attempt is abandoned and retried, and the Mount succeeds', async () => {
    await seedRegions([PRIMARY]);
    const who = await env.pod('sts-slow');
    env.proxy.setFault({ service: 'sts', kind: 'delay', ms: 4000, times: 1 });

    const response = await env.mount(who, { parameters: { region: PRIMARY }, objects: SEEDED_OBJECTS });

    expect(response.files.map((f) => f.path).sort()).toEqual(['db', 'flag']);
    expect(env.proxy.records.filter((r) => r.service === 'sts')).toHaveLength(2);
  });

  it('STS answering 500 → UNAVAILABLE CredentialsUnavailable; the next Mount is served', async () => {
    const who = await env.pod('sts-500');
    env.proxy.setFault({ service: 'sts', kind: 'status', status: 500 });

    const error = await mountFailure(env.mount(who, { parameters: { region: PRIMARY }, objects: SEEDED_OBJECTS }));

    expect(error.code).toBe(status.UNAVAILABLE);
    expect(providerCode(error)).toBe('CredentialsUnavailable');
    env.proxy.clearFaults();
    await expectGoodMount(env, who, PRIMARY);
  });

  it('garbage on the socket: the provider still answers Version and Mount', async () => {
    const who = await env.pod('after-garbage');
    const h2Preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
    const payloads = [
      randomBytes(4096),
      Buffer.concat([h2Preface, randomBytes(2048)]),
      // A SETTINGS frame header claiming a 16 MiB payload, then nothing.
      Buffer.concat([h2Preface, Buffer.from([0xff, 0xff, 0xff, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00])]),
      Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'),
      randomBytes(5 * 1024 * 1024),
    ];
    for (const payload of payloads) await sendRaw(env.provider.socketPath, payload);

    expect(env.provider.process.exitCode).toBeNull();
    expect((await env.provider.client.version()).version).toBe('v1alpha1');
    await expectGoodMount(env, who, PRIMARY);
  });
});

describe('credentials refused by IAM', () => {
  // Default per-attempt limits: moto checking a call against IAM policies can take longer than the 500 ms attempts of
  // the regional faults above, on a loaded machine.
  const env = useMountEnvironment();

  it("the session credentials STS issued refused by moto's IAM → PERMISSION_DENIED naming the objects", async () => {
    await seedRegions([PRIMARY]);
    const who = await env.pod('iam-refused', { roleArn: 'arn:aws:iam::123456789012:role/ops-no-permissions' });
    await createRoleWithoutPermissions('ops-no-permissions');
    // The first call moto serves unchecked is the (unsigned) AssumeRoleWithWebIdentity; every later call is
    // checked against the role's policies, and the role has none.
    await setMotoAuthEnforcement('1');
    try {
      const error = await mountFailure(env.mount(who, { parameters: { region: PRIMARY }, objects: SEEDED_OBJECTS }));

      expect(error.code, error.details).toBe(status.PERMISSION_DENIED);
      expect(providerCode(error)).toBe('AccessDenied');
      expect(error.details).toMatch(/ops\/db|\/ops\/flag/);
      expect(error.details).toContain(PRIMARY);
    } finally {
      await setMotoAuthEnforcement('inf');
    }
    await expectGoodMount(env, await env.pod('iam-after'), PRIMARY);
  });
});

describe('slower than the Mount deadline', () => {
  // The per-attempt limit is above the deadline here, so the deadline is what fires.
  const env = useMountEnvironment({ providerArgs: ['--mount-timeout=2s', '--aws-request-timeout=30s'] });
  // A provider fresh from source loads the Kubernetes client on its first Mounts: on a slow machine that alone can
  // take more than the 2 s, and these tests are about AWS being slow. A Mount that then meets the deadline has found
  // the provider warm.
  beforeAll(async () => {
    const who = await env.pod('deadline-warm-up');
    for (let attempt = 1; ; attempt++) {
      try {
        return await expectGoodMount(env, who, PRIMARY);
      } catch (err) {
        if (attempt === 5 || (err as { code?: number }).code !== status.DEADLINE_EXCEEDED) throw err;
      }
    }
  });

  it('a primary slower than --mount-timeout → DEADLINE_EXCEEDED naming the region; the next Mount is served', async () => {
    await seedRegions([PRIMARY]);
    const who = await env.pod('deadline');
    env.proxy.setFault({ region: PRIMARY, service: 'secretsmanager', kind: 'delay', ms: 4000 });

    const error = await mountFailure(env.mount(who, { parameters: { region: PRIMARY }, objects: SEEDED_OBJECTS }));

    expect(error.code).toBe(status.DEADLINE_EXCEEDED);
    expect(providerCode(error)).toBe('DeadlineExceeded');
    expect(error.details).toContain('--mount-timeout');
    expect(error.details).toContain(PRIMARY);
    expect(error.details).toContain('ops/db');
    env.proxy.clearFaults();
    await expectGoodMount(env, who, PRIMARY);
  });

  it('STS slower than --mount-timeout → DEADLINE_EXCEEDED; nothing fetched', async () => {
    const who = await env.pod('sts-deadline');
    env.proxy.setFault({ service: 'sts', kind: 'delay', ms: 4000, times: 1 });

    const error = await mountFailure(env.mount(who, { parameters: { region: PRIMARY }, objects: SEEDED_OBJECTS }));

    expect(error.code).toBe(status.DEADLINE_EXCEEDED);
    expect(env.proxy.records.filter((r) => r.service !== 'sts')).toHaveLength(0);
    // Another identity: this one's STS call may still be in flight, shared by whoever asks for it next.
    await expectGoodMount(env, await env.pod('sts-deadline-other'), PRIMARY);
  });
});

describe('the Kubernetes API down, and Secrets Manager refusing connections', () => {
  const peers = usePeers();
  const namespace = `ops-kube-${randomBytes(3).toString('hex')}`;
  let proxy: FaultProxy;
  let door: KubeDoor;
  let provider: RunningProvider;
  let tokens: string;

  beforeAll(async () => {
    proxy = await startFaultProxy(peers.motoUrl);
    door = await openKubeDoor(await mkdtemp(join(tmpdir(), 'kube-door-')));
    await ensureNamespace(namespace);
    await createServiceAccount(namespace, 'app', { [ROLE_ANNOTATION]: 'arn:aws:iam::123456789012:role/app' });
    tokens = await serviceAccountTokens(namespace, 'app', [IRSA_AUDIENCE]);
    provider = await startProvider({
      kubeconfigPath: door.kubeconfigPath,
      // No AWS_REGION: a Mount without a region parameter needs the pod's node from the API server.
      env: { AWS_ENDPOINT_URL: proxy.url, AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${await freePort()}` },
    });
  });
  afterAll(async () => {
    await provider?.stop();
    await door?.close();
    await proxy?.close();
  });

  const mount = (parameters: Record<string, string>) =>
    provider.client.mount(
      mountRequest({
        pod: { namespace, name: 'web-0', serviceAccountName: 'app' },
        tokens,
        parameters,
        objects: [{ objectName: '/ops/flag', objectType: 'ssmparameter' }],
      }),
    );

  it('the region lookup meets a closed API server port → UNAVAILABLE KubernetesUnavailable naming the lookup', async () => {
    await putParameter(PRIMARY, '/ops/flag', 'flag-value');
    // While the API server is reachable, the ServiceAccount's role is read (and cached for 30 s).
    expect((await mount({ region: PRIMARY })).files[0]?.contents.toString()).toBe('flag-value');
    await door.down();

    const error = await mountFailure(mount({}));

    expect(error.code).toBe(status.UNAVAILABLE);
    expect(providerCode(error)).toBe('KubernetesUnavailable');
    expect(error.details).toContain(`get pod ${namespace}/web-0`);
    expect(proxy.records).toHaveLength(1 + 1); // the first Mount's STS and SSM calls only
    // A Mount that needs nothing from the API server is still served.
    expect((await mount({ region: PRIMARY })).files[0]?.contents.toString()).toBe('flag-value');
    await door.up();
  });

  it('Secrets Manager refusing connections → UNAVAILABLE naming the region; SSM Mounts are still served', async () => {
    await putParameter(PRIMARY, '/ops/flag', 'flag-value');
    const error = await mountFailure(
      provider.client.mount(
        mountRequest({
          pod: { namespace, name: 'web-0', serviceAccountName: 'app' },
          tokens,
          parameters: { region: PRIMARY },
          objects: [{ objectName: 'ops/db', objectType: 'secretsmanager' }],
        }),
      ),
    );

    expect(error.code).toBe(status.UNAVAILABLE);
    expect(providerCode(error)).toBe('RegionUnavailable');
    expect(error.details).toContain(PRIMARY);
    expect(error.details).toMatch(/ECONNREFUSED/);
    expect((await mount({ region: PRIMARY })).files[0]?.contents.toString()).toBe('flag-value');
  });
});

/** Writes raw bytes to the provider's socket as a confused (or hostile) local client would, then hangs up. */
async function sendRaw(socketPath: string, payload: Buffer): Promise<void> {
  await new Promise<void>((resolve) => {
    const socket = connect(socketPath);
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
    socket.on('data', () => undefined);
    socket.write(payload, () => socket.end());
    setTimeout(() => socket.destroy(), 2000).unref();
  });
}

async function iam(params: Record<string, string>): Promise<void> {
  const res = await fetch(`${usePeers().motoUrl}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: new URLSearchParams({ ...params, Version: '2010-05-08' }).toString(),
  });
  if (!res.ok) throw new Error(`moto IAM ${params.Action} answered HTTP ${res.status}: ${await res.text()}`);
}

/** A role that exists in moto's IAM (so its session credentials are recognised) and is allowed nothing. */
async function createRoleWithoutPermissions(name: string): Promise<void> {
  await iam({
    Action: 'CreateRole',
    RoleName: name,
    AssumeRolePolicyDocument: JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Federated: 'oidc' }, Action: 'sts:AssumeRoleWithWebIdentity' }],
    }),
  });
}

/** How many calls moto serves before it enforces IAM: 'inf' is its default (never). */
async function setMotoAuthEnforcement(count: string): Promise<void> {
  const res = await fetch(`${usePeers().motoUrl}/moto-api/reset-auth`, { method: 'POST', body: count });
  if (!res.ok) throw new Error(`moto reset-auth answered HTTP ${res.status}: ${await res.text()}`);
}

describe('--aws-retry-mode=adaptive, with the clients every identity in a region shares', () => {
  const env = useMountEnvironment({ providerArgs: ['--aws-retry-mode=adaptive', '--aws-max-attempts=3', '--throttle-wait=0'] });

  it("throttled twice → retried by the region's client and served; another identity is then served through the same client", async () => {
    await seedRegions([PRIMARY]);
    const [first, second] = [await env.pod('adaptive-a'), await env.pod('adaptive-b')];
    env.proxy.clearRecords();
    env.proxy.setFault({ region: PRIMARY, service: 'secretsmanager', kind: 'throttle', times: 2 });

    const response = await env.mount(first, { parameters: { region: PRIMARY }, objects: SEEDED_OBJECTS });
    const files = Object.fromEntries(response.files.map((f) => [f.path, f.contents.toString()]));
    expect(files).toEqual({ db: `db-in-${PRIMARY}`, flag: `flag-in-${PRIMARY}` });
    const secretsCalls = () => env.proxy.records.filter((r) => r.service === 'secretsmanager').map((r) => r.status);
    expect(secretsCalls()).toEqual([400, 400, 200]);

    await env.mount(second, { parameters: { region: PRIMARY }, objects: SEEDED_OBJECTS });
    expect(secretsCalls()).toEqual([400, 400, 200, 200]);
  });

  it('throttled on every attempt → UNAVAILABLE naming the region after --aws-max-attempts, no files', async () => {
    await seedRegions([PRIMARY]);
    const who = await env.pod('adaptive-c');
    env.proxy.clearRecords();
    env.proxy.setFault({ region: PRIMARY, service: 'secretsmanager', kind: 'throttle' });

    const error = await mountFailure(env.mount(who, { parameters: { region: PRIMARY }, objects: SEEDED_OBJECTS }));

    expect(error.code).toBe(status.UNAVAILABLE);
    expect(error.details).toContain(PRIMARY);
    // The throttled batch was sent again as GetSecretValue, throttled as well: each call made its 3 attempts.
    const actions = env.proxy.records.filter((r) => r.service === 'secretsmanager').map((r) => r.action);
    expect(actions).toEqual([...Array(3).fill('BatchGetSecretValue'), ...Array(3).fill('GetSecretValue')]);
    env.proxy.clearFaults();
    await expectGoodMount(env, who, PRIMARY);
  });
});
