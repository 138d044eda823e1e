/**
 * Issue 22's token repros against the provider as production runs it: the built bundle on the image's Node.js, on
 * its real socket, with the real kube-apiserver's OIDC discovery and tokens minted by TokenRequest, moto behind the
 * fault proxy and the Pod Identity agent stand-in.
 *
 * - A token that is not the pod's own current one is refused before any credentials are served, even when the
 *   service account's credentials are cached, and makes no AWS or agent call.
 * - A Mount that joined a shared STS or agent call refused with a sibling's token tries once with its own.
 * - One namespace minting identities (an external id per Mount) cannot evict another namespace's credentials.
 */
import { execFile } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IRSA_AUDIENCE, POD_IDENTITY_AUDIENCE, ROLE_ANNOTATION } from '../../fixtures/identity.js';
import { mountRequest } from '../../fixtures/mountRequest.js';
import { startFaultProxy, type FaultProxy } from '../../harness/faultProxy.js';
import { createPod, createServiceAccount, ensureNamespace, mintToken } from '../../harness/kube.js';
import { createSecret } from '../../harness/moto.js';
import { usePeers } from '../../harness/peers.js';
import { usePodIdentityAgent } from '../../harness/podIdentityAgent.js';
import { startProvider, type RunningProvider } from '../../harness/provider.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const REGION = 'us-east-1';
const NAMESPACE = `hostile-tokens-${Date.now().toString(36)}`;
const ROLE = 'arn:aws:iam::123456789012:role/hostile-tokens';
const objects = [{ objectName: 'hostile/token-secret', objectType: 'secretsmanager' }];

const peers = usePeers();
const agent = usePodIdentityAgent();
let proxy: FaultProxy;
let provider: RunningProvider;

interface Pod {
  name: string;
  uid: string;
  serviceAccount: string;
}

/** A pod of `serviceAccount` (created, so tokens can be bound to it, as kubelet binds a volume's tokens). */
async function pod(name: string, serviceAccount: string): Promise<Pod> {
  const created = await createPod(NAMESPACE, name, { serviceAccountName: serviceAccount });
  return { name, uid: created.metadata!.uid!, serviceAccount };
}

/** The pod's own tokens for both audiences, bound to it, as the driver passes them. */
async function ownTokens(p: Pod): Promise<Record<string, string>> {
  const bound = { name: p.name, uid: p.uid };
  return {
    [IRSA_AUDIENCE]: (await mintToken(NAMESPACE, p.serviceAccount, IRSA_AUDIENCE, 3600, bound)).token,
    [POD_IDENTITY_AUDIENCE]: (await mintToken(NAMESPACE, p.serviceAccount, POD_IDENTITY_AUDIENCE, 3600, bound)).token,
  };
}

const attribute = (tokens: Record<string, string>) =>
  JSON.stringify(
    Object.fromEntries(
      Object.entries(tokens).map(([audience, token]) => [audience, { token, expirationTimestamp: '2099-01-01T00:00:00Z' }]),
    ),
  );

function mount(p: Pod, tokens: Record<string, string>, podIdentity: boolean) {
  return provider.client.mount(
    mountRequest({
      pod: { namespace: NAMESPACE, name: p.name, uid: p.uid, serviceAccountName: p.serviceAccount },
      parameters: { region: REGION, ...(podIdentity && { usePodIdentity: 'true' }) },
      objects,
      tokens: attribute(tokens),
    }),
    30_000,
  );
}

async function refusal(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  const outcome = await promise.then(
    () => undefined,
    (error: grpc.ServiceError) => error,
  );
  if (outcome === undefined) throw new Error('expected the Mount to be refused, it was served');
  return outcome;
}

const errorCode = (error: grpc.ServiceError) => error.metadata.get('x-provider-error-code')[0]?.toString();

/** The API server's own signing key (the test PKI's, next to its CA): it mints what only the cluster could. */
function clusterSigningKey(): KeyObject {
  return createPrivateKey(readFileSync(join(dirname(peers.kube.caFile), 'sa.key')));
}

function resign(header: object, claims: object, key: KeyObject): string {
  const input = [header, claims].map((part) => Buffer.from(JSON.stringify(part)).toString('base64url')).join('.');
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

function decode(token: string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const [header, claims] = token.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>);
  return { header: header!, claims: claims! };
}

/** The pieces of a token that must never show in an error or a log line. */
function fragments(token: string): string[] {
  if (token.length < 40) return [];
  return token
    .split('.')
    .filter((part) => part.length >= 16)
    .map((part) => part.slice(0, 64));
}

let owner: Pod;
let ownerTokens: Record<string, string>;
let sibling: Pod;
let other: Pod;

beforeAll(async () => {
  // The bundle of these sources, as the image ships it (dist/src/main.js and its chunks).
  await promisify(execFile)('node', ['scripts/bundle.mjs'], { cwd: ROOT });
  proxy = await startFaultProxy(peers.motoUrl);
  await ensureNamespace(NAMESPACE);
  for (const sa of ['app', 'other', 'shared-irsa', 'shared-pi', 'same-irsa', 'overlap']) {
    await createServiceAccount(NAMESPACE, sa, { [ROLE_ANNOTATION]: `${ROLE}-${sa}` });
  }
  owner = await pod('web-1', 'app');
  sibling = await pod('web-2', 'app');
  other = await pod('admin-1', 'other');
  ownerTokens = await ownTokens(owner);
  provider = await startProvider({
    kubeconfigPath: peers.kube.kubeconfigPath,
    entry: join(ROOT, 'dist/src/main.js'),
    node: peers.binaries.imageNode,
    args: [`--pod-identity-endpoint-ipv4=${agent.ipv4Url}`, `--pod-identity-endpoint-ipv6=${agent.ipv6Url}`],
    env: { AWS_ENDPOINT_URL: proxy.url },
  });
}, 180_000);

afterAll(async () => {
  await provider?.stop();
  await proxy?.close();
});

/** moto is reset before every test (test/harness/setup.ts): the secret is seeded again after it. */
const seed = () =>
  createSecret(REGION, 'hostile/token-secret', 'token-secret-value').catch((err: Error) => {
    if (err.name !== 'ResourceExistsException') throw err;
  });

beforeEach(async () => {
  await seed();
  proxy.clearFaults();
  proxy.clearRecords();
});

/** Tokens a Mount of web-1 (service account app) might carry for `audience` that are not its own current one. */
function hostileTokens(audience: string): { name: string; token: () => Promise<string>; check: RegExp }[] {
  const own = () => ownerTokens[audience]!;
  return [
    { name: '"x"', token: () => Promise.resolve('x'), check: /it is not a JWT/ },
    // 2 MB: a larger request is stopped before it is read, by --max-request-size (3Mi).
    { name: 'a 2 MB string', token: () => Promise.resolve('A'.repeat(2 * 1024 * 1024)), check: /over the 16384 a service account token can be/ },
    {
      name: 'its own token with an edited payload (the signature no longer matches)',
      token: async () => {
        const { header, claims } = decode(own());
        const [, , signature] = own().split('.');
        const edited = resign(header, { ...claims, exp: (claims.exp as number) + 86_400 }, clusterSigningKey());
        return `${edited.split('.').slice(0, 2).join('.')}.${signature}`;
      },
      check: /its signature was not made by the cluster's service account issuer https:\/\/kubernetes\.default\.svc/,
    },
    {
      name: 'a forged JWT: valid shape and claims, the cluster’s kid, another key',
      token: async () => {
        const { header, claims } = decode(own());
        return resign(header, claims, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
      },
      check: /its signature was not made by the cluster's service account issuer/,
    },
    {
      name: 'a JWT naming a key the cluster does not publish',
      token: async () => {
        const { header, claims } = decode(own());
        return resign({ ...header, kid: 'made-up' }, claims, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
      },
      check: /names a signing key the API server does not publish/,
    },
    {
      name: 'an expired token, signed by the cluster',
      token: async () => {
        const { header, claims } = decode(own());
        const past = Math.floor(Date.now() / 1000) - 7200;
        return resign(header, { ...claims, iat: past - 3600, nbf: past - 3600, exp: past }, clusterSigningKey());
      },
      check: /it expired at/,
    },
    {
      name: 'a token for another audience',
      token: async () => (await mintToken(NAMESPACE, 'app', 'vault', 3600, owner)).token,
      check: new RegExp(`its audience is \\["vault"\\], not "${audience.replace(/\./g, '\\.')}"`),
    },
    {
      name: 'a token of another service account',
      token: async () => (await mintToken(NAMESPACE, 'other', audience, 3600, other)).token,
      check: new RegExp(`it is for system:serviceaccount:${NAMESPACE}:other, not for the pod's service account`),
    },
    {
      name: "a sibling pod's token",
      token: async () => (await mintToken(NAMESPACE, 'app', audience, 3600, sibling)).token,
      check: /it is bound to pod .*\/web-2 .* not to the Mount's pod .*\/web-1/,
    },
  ];
}

describe.each([
  { kind: 'IRSA', audience: IRSA_AUDIENCE, podIdentity: false },
  { kind: 'Pod Identity', audience: POD_IDENTITY_AUDIENCE, podIdentity: true },
])('$kind: the credentials of app are cached; a Mount of web-1 with a token not its own', ({ audience, podIdentity }) => {
  beforeAll(async () => {
    // A good Mount caches the service account's credentials, as on a node that already serves its pods.
    await seed();
    const response = await mount(owner, ownerTokens, podIdentity);
    expect(response.files.map((f) => f.contents.toString())).toEqual(['token-secret-value']);
  });

  it.each(hostileTokens(audience))('$name: refused, no AWS or agent call, no token quoted', async ({ token, check }) => {
    const presented = await token();
    const error = await refusal(mount(owner, { ...ownerTokens, [audience]: presented }, podIdentity));

    expect(error.code, error.details).toBe(status.UNAUTHENTICATED);
    expect(errorCode(error)).toBe('InvalidServiceAccountToken');
    expect(error.details).toContain(`the "${audience}" service account token of pod ${NAMESPACE}/web-1 was refused`);
    expect(error.details).toMatch(check);
    expect(proxy.records).toEqual([]);
    expect(agent.requests).toEqual([]);
    for (const piece of fragments(presented)) {
      expect(error.details).not.toContain(piece);
      expect(provider.output()).not.toContain(piece);
    }
  });

  it("the pod's own token is still served from the cache", async () => {
    const response = await mount(owner, ownerTokens, podIdentity);
    expect(response.files.map((f) => f.contents.toString())).toEqual(['token-secret-value']);
    expect(proxy.records.filter((r) => r.service === 'sts')).toEqual([]);
    expect(agent.requests).toEqual([]);
  });
});

/** Waits until `count()` reaches `n`: the first Mount's call is in flight before its sibling is sent. */
async function until(count: () => number, n: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (count() < n) {
    if (Date.now() > deadline) throw new Error(`waited for ${n} calls, saw ${count()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('a Mount that joined a shared call refused with its sibling’s token', () => {
  it('IRSA: tries once with its own token and is served; the refused pod is not', async () => {
    const [first, second] = [await pod('shared-irsa-1', 'shared-irsa'), await pod('shared-irsa-2', 'shared-irsa')];
    const [firstTokens, secondTokens] = [await ownTokens(first), await ownTokens(second)];
    proxy.setFault({ service: 'sts', kind: 'refuseToken', webIdentityToken: firstTokens[IRSA_AUDIENCE], afterMs: 500 });

    const refused = refusal(mount(first, firstTokens, false));
    await until(() => proxy.records.filter((r) => r.service === 'sts').length, 1);
    const served = mount(second, secondTokens, false);

    const error = await refused;
    expect(error.code, error.details).toBe(status.PERMISSION_DENIED);
    expect(errorCode(error)).toBe('CredentialsRefused');
    expect((await served).files.map((f) => f.contents.toString())).toEqual(['token-secret-value']);
    const sts = proxy.records.filter((r) => r.service === 'sts').map((r) => r.webIdentityToken);
    expect(sts).toEqual([firstTokens[IRSA_AUDIENCE], secondTokens[IRSA_AUDIENCE]]);
  });

  it('IRSA: Mounts with the identical token share the refusal: one STS call', async () => {
    const p = await pod('same-irsa-1', 'same-irsa');
    const tokens = await ownTokens(p);
    proxy.setFault({ service: 'sts', kind: 'refuseToken', webIdentityToken: tokens[IRSA_AUDIENCE], afterMs: 500 });

    const first = refusal(mount(p, tokens, false));
    await until(() => proxy.records.filter((r) => r.service === 'sts').length, 1);
    const second = refusal(mount(p, tokens, false));

    expect(errorCode(await first)).toBe('CredentialsRefused');
    expect(errorCode(await second)).toBe('CredentialsRefused');
    expect(proxy.records.filter((r) => r.service === 'sts')).toHaveLength(1);
  });

  it('IRSA: Mounts of one service account with different valid tokens still share one STS call', async () => {
    const [a, b] = [await pod('overlap-1', 'overlap'), await pod('overlap-2', 'overlap')];
    const [aTokens, bTokens] = [await ownTokens(a), await ownTokens(b)];
    proxy.setFault({ service: 'sts', kind: 'delay', ms: 300 });

    const first = mount(a, aTokens, false);
    await until(() => proxy.records.filter((r) => r.service === 'sts').length, 1);
    const second = mount(b, bTokens, false);

    await Promise.all([first, second]);
    expect(proxy.records.filter((r) => r.service === 'sts')).toHaveLength(1);
  });

  it('Pod Identity: tries once with its own token; the agent’s error body (echoing the token) is never quoted', async () => {
    const [first, second] = [await pod('shared-pi-1', 'shared-pi'), await pod('shared-pi-2', 'shared-pi')];
    const [firstTokens, secondTokens] = [await ownTokens(first), await ownTokens(second)];
    const refusedToken = firstTokens[POD_IDENTITY_AUDIENCE]!;
    agent.behave({
      kind: 'refuseToken',
      token: refusedToken,
      afterMs: 500,
      status: 400,
      body: `{"__type":"AccessDeniedException","message":"token ${refusedToken} is not allowed"}`,
    });

    const refused = refusal(mount(first, firstTokens, true));
    await until(() => agent.requests.length, 1);
    const served = mount(second, secondTokens, true);

    const error = await refused;
    expect(errorCode(error)).toBe('CredentialsRefused');
    expect(error.details).toContain('(HTTP 400, AccessDeniedException)');
    for (const piece of fragments(refusedToken)) {
      expect(error.details).not.toContain(piece);
      expect(provider.output()).not.toContain(piece);
    }
    expect((await served).files.map((f) => f.contents.toString())).toEqual(['token-secret-value']);
    expect(agent.requests.map((r) => r.authorization)).toEqual([refusedToken, secondTokens[POD_IDENTITY_AUDIENCE]]);
  });
});

describe('per-namespace fairness of the credential cache', () => {
  const TENANT = `${NAMESPACE}-tenant`;
  let fair: RunningProvider;

  beforeAll(async () => {
    await ensureNamespace(TENANT);
    await createServiceAccount(TENANT, 'greedy', { [ROLE_ANNOTATION]: `${ROLE}-greedy` });
    fair = await startProvider({
      kubeconfigPath: peers.kube.kubeconfigPath,
      entry: join(ROOT, 'dist/src/main.js'),
      node: peers.binaries.imageNode,
      args: ['--credential-cache-size=20', '--credential-cache-namespace-size=5'],
      env: { AWS_ENDPOINT_URL: proxy.url },
    });
  });
  afterAll(async () => {
    await fair?.stop();
  });

  it("one namespace's external id per Mount evicts only its own identities, not another namespace's", async () => {
    const victimTokens = attribute(ownerTokens);
    const victim = mountRequest({
      pod: { namespace: NAMESPACE, name: owner.name, uid: owner.uid, serviceAccountName: 'app' },
      parameters: { region: REGION },
      objects,
      tokens: victimTokens,
    });
    await fair.client.mount(victim);
    const greedyTokens = attribute({
      [IRSA_AUDIENCE]: (await mintToken(TENANT, 'greedy', IRSA_AUDIENCE)).token,
    });
    for (let i = 0; i < 30; i += 1) {
      await fair.client.mount(
        mountRequest({
          pod: { namespace: TENANT, name: 'greedy', serviceAccountName: 'greedy' },
          parameters: {
            region: REGION,
            assumeRoleArn: 'arn:aws:iam::123456789012:role/hostile-chained',
            assumeRoleExternalId: `ext-${i}`,
          },
          objects,
          tokens: greedyTokens,
        }),
      );
    }
    expect(proxy.records.filter((r) => r.action === 'AssumeRole')).toHaveLength(30);
    proxy.clearRecords();

    await fair.client.mount(victim);

    expect(proxy.records.filter((r) => r.service === 'sts')).toEqual([]);
  });
});
