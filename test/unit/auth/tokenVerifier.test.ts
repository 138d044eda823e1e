import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { MAX_TOKEN_LENGTH } from '../../../src/auth/jwt.js';
import { TokenVerifier } from '../../../src/auth/tokenVerifier.js';
import type { MountConfig } from '../../../src/config/types.js';
import { ProviderError } from '../../../src/errors.js';
import type { IssuerKeys, ServiceAccountIssuerSource } from '../../../src/k8s/serviceAccountIssuer.js';

const ISSUER = 'https://oidc.example.test/id/CLUSTER';
const AUDIENCE = 'sts.amazonaws.com';
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });

const NOW = 1_800_000_000_000;
const nowSeconds = NOW / 1000;

/** A token as the API server mints it for a pod of shop/web, with `claims` changed. */
function mint(
  claims: Record<string, unknown> = {},
  options: { key?: KeyObject; alg?: string; kid?: string | undefined } = {},
): string {
  const alg = options.alg ?? 'RS256';
  const header = { alg, ...('kid' in options ? options.kid !== undefined && { kid: options.kid } : { kid: 'rsa-1' }) };
  const payload = {
    iss: ISSUER,
    aud: [AUDIENCE],
    sub: 'system:serviceaccount:shop:web',
    exp: nowSeconds + 3600,
    nbf: nowSeconds - 10,
    iat: nowSeconds - 10,
    'kubernetes.io': {
      namespace: 'shop',
      pod: { name: 'web-1', uid: 'uid-1' },
      serviceaccount: { name: 'web', uid: 'sa-uid' },
    },
    ...claims,
  };
  const input = [header, payload].map((part) => Buffer.from(JSON.stringify(part)).toString('base64url')).join('.');
  const key = options.key ?? (alg === 'ES256' ? ec.privateKey : rsa.privateKey);
  const signature = sign('sha256', Buffer.from(input), alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key);
  return `${input}.${signature.toString('base64url')}`;
}

/** The cluster's issuer as discovery would publish it: two keys by kid; counts every lookup. */
function issuerSource(): ServiceAccountIssuerSource & { lookups: number } {
  const keys = new Map([
    ['rsa-1', rsa.publicKey],
    ['ec-1', ec.publicKey],
  ]);
  return {
    lookups: 0,
    keysFor(kid): Promise<IssuerKeys> {
      this.lookups += 1;
      const found = kid === undefined ? [...keys.values()] : [keys.get(kid)].filter((k) => k !== undefined);
      return Promise.resolve({ issuer: ISSUER, keys: found });
    },
  };
}

function mountOf(token: string, pod: Partial<MountConfig['pod']> = {}): MountConfig {
  return {
    pod: { name: 'web-1', namespace: 'shop', uid: 'uid-1', serviceAccountName: 'web', ...pod },
    tokens: { [AUDIENCE]: { token } },
  } as unknown as MountConfig;
}

function setup() {
  let now = NOW;
  const source = issuerSource();
  const verifier = new TokenVerifier(source, { maxEntries: 10, now: () => now });
  return { source, verifier, advance: (ms: number) => (now += ms) };
}

async function refusal(promise: Promise<unknown>): Promise<ProviderError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ProviderError)) throw new Error(`expected a ProviderError, got ${String(err)}`);
  return err;
}

describe('TokenVerifier', () => {
  it('accepts the pod’s own RS256 token and knows it by its hash, not by itself', async () => {
    const { verifier } = setup();
    const token = mint();
    const verified = await verifier.podToken(mountOf(token), AUDIENCE);
    expect(verified.token).toBe(token);
    expect(verified.id).not.toContain(token.slice(0, 20));
    expect(verified.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('accepts an ES256 token signed with the issuer’s EC key', async () => {
    const { verifier } = setup();
    await expect(verifier.podToken(mountOf(mint({}, { alg: 'ES256', kid: 'ec-1' })), AUDIENCE)).resolves.toBeDefined();
  });

  it('accepts a token without kid signed by one of the published keys', async () => {
    const { verifier } = setup();
    await expect(verifier.podToken(mountOf(mint({}, { kid: undefined })), AUDIENCE)).resolves.toBeDefined();
  });

  it.each<[string, () => string, RegExp]>([
    ['a string that is no JWT', () => 'x', /is not a JWT/],
    ['a 3 MB string', () => 'a'.repeat(3 * 1024 * 1024), new RegExp(`over the ${MAX_TOKEN_LENGTH}`)],
    ['an unsigned token (alg none)', () => mint().split('.').slice(0, 2).join('.').replace(/^[^.]+/, b64({ alg: 'none' })) + '.', /not a JWT|algorithm/],
    ['a forged signature (another key, the issuer’s kid)', () => mint({}, { key: stranger.privateKey }), /signature was not made by the cluster's service account issuer/],
    ['a kid the issuer does not publish', () => mint({}, { key: stranger.privateKey, kid: 'made-up' }), /signing key the API server does not publish/],
    ['an ES256 header over an RSA key', () => mint({}, { alg: 'ES256', kid: 'rsa-1' }), /signature was not made/],
    ['another issuer', () => mint({ iss: 'https://evil.example' }), /issued by https:\/\/evil.example/],
    ['another audience', () => mint({ aud: ['pods.eks.amazonaws.com'] }), /audience is \["pods.eks.amazonaws.com"\], not "sts.amazonaws.com"/],
    ['another service account', () => mint({ sub: 'system:serviceaccount:shop:admin' }), /is for system:serviceaccount:shop:admin/],
    ['another namespace', () => mint({ sub: 'system:serviceaccount:bank:web' }), /is for system:serviceaccount:bank:web/],
    ['an expired token', () => mint({ exp: nowSeconds - 61 }), /expired at/],
    ['a token not yet valid', () => mint({ nbf: nowSeconds + 61 }), /not valid before/],
    ['a token without exp', () => mint({ exp: undefined }), /lacks the iss, sub or exp/],
    [
      'a token bound to another pod',
      () => mint({ 'kubernetes.io': { pod: { name: 'web-2', uid: 'uid-2' } } }),
      /bound to pod shop\/web-2 \(uid uid-2\), not to the Mount's pod shop\/web-1/,
    ],
    ['a token bound to another pod of the same name', () => mint({ 'kubernetes.io': { pod: { name: 'web-1', uid: 'old' } } }), /uid old/],
  ])('refuses %s: UNAUTHENTICATED naming pod, audience and check, never the token', async (_name, token, reason) => {
    const { verifier } = setup();
    const presented = token();
    const err = await refusal(verifier.podToken(mountOf(presented), AUDIENCE));
    expect(err.code).toBe('InvalidServiceAccountToken');
    expect(err.grpcStatus).toBe(status.UNAUTHENTICATED);
    expect(err.message).toMatch(reason);
    expect(err.message).toContain('"sts.amazonaws.com" service account token of pod shop/web-1 was refused');
    for (const part of presented.split('.').filter((p) => p.length > 8)) expect(err.message).not.toContain(part.slice(0, 200));
  });

  it('allows a minute of clock skew either way', async () => {
    const { verifier } = setup();
    await expect(verifier.podToken(mountOf(mint({ exp: nowSeconds - 30 })), AUDIENCE)).resolves.toBeDefined();
    await expect(verifier.podToken(mountOf(mint({ nbf: nowSeconds + 30 })), AUDIENCE)).resolves.toBeDefined();
  });

  it('says how to get the token when it is missing', async () => {
    const { verifier } = setup();
    const err = await refusal(verifier.podToken({ ...mountOf('x'), tokens: {} }, AUDIENCE));
    expect(err.code).toBe('MissingServiceAccountToken');
    expect(err.message).toContain('tokenRequests');
  });

  it('verifies a signature once per token, and checks its claims against every Mount that presents it', async () => {
    const { verifier, source } = setup();
    const token = mint();
    await verifier.podToken(mountOf(token), AUDIENCE);
    await verifier.podToken(mountOf(token), AUDIENCE);
    expect(source.lookups).toBe(1);

    const other = await refusal(verifier.podToken(mountOf(token, { serviceAccountName: 'admin' }), AUDIENCE));
    expect(other.message).toContain('not for the pod\'s service account system:serviceaccount:shop:admin');
    const otherPod = await refusal(verifier.podToken(mountOf(token, { name: 'web-9', uid: 'uid-9' }), AUDIENCE));
    expect(otherPod.message).toContain('bound to pod shop/web-1');
    expect(source.lookups).toBe(1);
  });

  it('checks a remembered signature again after 10 minutes, with the keys the issuer then publishes', async () => {
    const { verifier, source, advance } = setup();
    const token = mint();
    await verifier.podToken(mountOf(token), AUDIENCE);
    advance(9 * 60_000);
    await verifier.podToken(mountOf(token), AUDIENCE);
    expect(source.lookups).toBe(1);
    advance(60_001);
    await verifier.podToken(mountOf(token), AUDIENCE);
    expect(source.lookups).toBe(2);
  });

  it('refuses a remembered token once it has expired', async () => {
    const { verifier, advance } = setup();
    const token = mint({ exp: nowSeconds + 600 });
    await verifier.podToken(mountOf(token), AUDIENCE);
    advance(600_000 + 61_000);
    const err = await refusal(verifier.podToken(mountOf(token), AUDIENCE));
    expect(err.message).toMatch(/expired at/);
  });

  it('does not remember a refused signature: the same forged token is judged again', async () => {
    const { verifier, source } = setup();
    const forged = mint({}, { key: stranger.privateKey });
    await refusal(verifier.podToken(mountOf(forged), AUDIENCE));
    await refusal(verifier.podToken(mountOf(forged), AUDIENCE));
    expect(source.lookups).toBe(2);
  });
});

function b64(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
