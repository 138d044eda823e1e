import { generateKeyPairSync } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { CoreApi } from '../../../src/k8s/coreApi.js';
import { publicKeys, ServiceAccountIssuer } from '../../../src/k8s/serviceAccountIssuer.js';

const ISSUER = 'https://kubernetes.default.svc';
const first = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
const second = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
const jwk = (key: typeof first, kid: string) => ({ ...key.export({ format: 'jwk' }), kid, use: 'sig' });

/**
 * The two discovery answers as the API server gives them, from a list the test changes (a key rotation), or an
 * error: only what ServiceAccountIssuer reads of the client, to test its caching and rate limit with a clock.
 */
function discovery() {
  const state = { keys: [jwk(first, 'one')], failure: undefined as Error | undefined, reads: 0 };
  const api = {
    readOpenIdConfiguration: () => Promise.resolve({ issuer: ISSUER, jwks_uri: `${ISSUER}/openid/v1/jwks` }),
    readOpenIdKeys: () => {
      state.reads += 1;
      return state.failure ? Promise.reject(state.failure) : Promise.resolve({ keys: state.keys });
    },
  } as unknown as CoreApi;
  return { state, api };
}

function setup() {
  let now = 0;
  const { state, api } = discovery();
  const issuer = new ServiceAccountIssuer(() => Promise.resolve(api), {
    minRefetchIntervalMs: 10_000,
    maxAgeMs: 600_000,
    now: () => now,
  });
  return { state, issuer, advance: (ms: number) => (now += ms) };
}

describe('ServiceAccountIssuer', () => {
  it('reads the issuer and its keys once, then serves them from memory', async () => {
    const { state, issuer } = setup();
    const keys = await issuer.keysFor('one');
    await issuer.keysFor('one');
    expect(keys.issuer).toBe(ISSUER);
    expect(keys.keys).toHaveLength(1);
    expect(state.reads).toBe(1);
  });

  it('reads again for an unknown kid, at most once per interval: a rotated key is found, made-up kids cost little', async () => {
    const { state, issuer, advance } = setup();
    await issuer.keysFor('one');
    state.keys = [jwk(first, 'one'), jwk(second, 'two')];
    advance(10_000);
    expect((await issuer.keysFor('two')).keys).toHaveLength(1);
    expect(state.reads).toBe(2);

    for (let i = 0; i < 100; i += 1) expect((await issuer.keysFor(`made-up-${i}`)).keys).toEqual([]);
    expect(state.reads).toBe(2);
    advance(10_000);
    await issuer.keysFor('made-up');
    expect(state.reads).toBe(3);
  });

  it('keeps serving known keys while the API server cannot be read, and re-reads old ones', async () => {
    const { state, issuer, advance } = setup();
    await issuer.keysFor('one');
    state.failure = new Error('connect ECONNREFUSED');
    advance(600_001);
    expect((await issuer.keysFor('one')).keys).toHaveLength(1);
    expect(state.reads).toBe(2);
  });

  it('an unknown kid while the API server cannot be read is KubernetesUnavailable, not a refusal', async () => {
    const { state, issuer, advance } = setup();
    await issuer.keysFor('one');
    state.failure = new Error('connect ECONNREFUSED 127.0.0.1:6443');
    advance(10_000);
    await expect(issuer.keysFor('two')).rejects.toMatchObject({
      code: 'KubernetesUnavailable',
      grpcStatus: status.UNAVAILABLE,
      message: expect.stringContaining('GET /openid/v1/jwks') as unknown,
    });
  });

  it('a 403 says which RBAC rule the chart grants', async () => {
    const { state, issuer } = setup();
    state.failure = new ApiException(403, 'GET /openid/v1/jwks', 'forbidden', {});
    await expect(issuer.keysFor('one')).rejects.toMatchObject({
      code: 'KubernetesAccessDenied',
      grpcStatus: status.PERMISSION_DENIED,
      message: expect.stringContaining('nonResourceURLs /.well-known/openid-configuration and /openid/v1/jwks') as unknown,
    });
  });
});

describe('publicKeys', () => {
  it('imports RSA and EC signing keys by kid and leaves out what cannot verify', () => {
    const keys = publicKeys({
      keys: [
        jwk(first, 'ec'),
        jwk(second, 'rsa'),
        { ...jwk(second, 'enc'), use: 'enc' },
        { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' },
        { kty: 'EC', kid: 'broken', crv: 'P-999', x: 'AA', y: 'AA' },
        'junk',
      ],
    });
    expect([...keys.keys()]).toEqual(['ec', 'rsa']);
    expect(keys.get('rsa')?.asymmetricKeyType).toBe('rsa');
  });

  it('reads nothing from what is no JWK set', () => {
    expect(publicKeys(null).size).toBe(0);
    expect(publicKeys({ keys: 'x' }).size).toBe(0);
  });
});
