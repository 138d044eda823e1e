import { describe, expect, it } from 'vitest';
import { identityKey, type IdentityParts } from '../../../src/auth/identity.js';
import { endpointsFor } from '../../../src/auth/podIdentity.js';
import { podToken, tokenSubject } from '../../../src/auth/token.js';
import type { MountConfig } from '../../../src/config/types.js';

const base: IdentityParts = { kind: 'irsa', namespace: 'ns', serviceAccount: 'sa', role: 'arn:aws:iam::1:role/r' };

describe('identityKey', () => {
  it.each<[string, Partial<IdentityParts>]>([
    ['auth kind', { kind: 'podidentity' }],
    ['namespace', { namespace: 'other' }],
    ['service account', { serviceAccount: 'other' }],
    ['role', { role: 'arn:aws:iam::1:role/other' }],
    ['chained role', { chainedRole: 'arn:aws:iam::2:role/x' }],
    ['external id', { chainedRole: 'arn:aws:iam::2:role/x', externalId: 'e' }],
  ])('differs when the %s differs', (_field, change) => {
    expect(identityKey({ ...base, ...change })).not.toBe(identityKey(base));
  });

  it('cannot be forged by a separator inside a field', () => {
    const a = identityKey({ kind: 'irsa', namespace: 'a', serviceAccount: 'b|c' });
    const b = identityKey({ kind: 'irsa', namespace: 'a|b', serviceAccount: 'c' });
    expect(a).not.toBe(b);
  });
});

function jwt(claims: object): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256' })}.${part(claims)}.sig`;
}

function configWith(token: string | undefined): MountConfig {
  return {
    pod: { name: 'p', namespace: 'ns', uid: 'u', serviceAccountName: 'sa' },
    tokens: token === undefined ? {} : { 'sts.amazonaws.com': { token } },
  } as unknown as MountConfig;
}

describe('podToken', () => {
  it("returns the token of the pod's own service account", () => {
    const token = jwt({ sub: 'system:serviceaccount:ns:sa' });
    expect(podToken(configWith(token), 'sts.amazonaws.com')).toBe(token);
    expect(tokenSubject(token)).toBe('system:serviceaccount:ns:sa');
  });

  it('refuses a token minted for another service account', () => {
    const token = jwt({ sub: 'system:serviceaccount:ns:admin' });
    expect(() => podToken(configWith(token), 'sts.amazonaws.com')).toThrow(/is for system:serviceaccount:ns:admin/);
  });

  it('says how to get the token when it is missing', () => {
    expect(() => podToken(configWith(undefined), 'sts.amazonaws.com')).toThrow(/tokenRequests/);
  });

  it('leaves a token it cannot read to STS', () => {
    expect(podToken(configWith('opaque'), 'sts.amazonaws.com')).toBe('opaque');
  });
});

describe('endpointsFor', () => {
  const options = { ipv4Endpoint: 'http://v4', ipv6Endpoint: 'http://v6', timeoutMs: undefined };
  it('tries IPv4 then IPv6 for auto, one address otherwise', () => {
    expect(endpointsFor('auto', options).map((e) => e.family)).toEqual(['IPv4', 'IPv6']);
    expect(endpointsFor('ipv4', options).map((e) => e.url)).toEqual(['http://v4']);
    expect(endpointsFor('ipv6', options).map((e) => e.url)).toEqual(['http://v6']);
  });
});
