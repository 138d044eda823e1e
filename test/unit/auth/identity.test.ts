import { describe, expect, it } from 'vitest';
import { identityKey, type IdentityParts } from '../../../src/auth/identity.js';
import { agentErrorCode, endpointsFor } from '../../../src/auth/podIdentity.js';

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

describe('endpointsFor', () => {
  const options = { ipv4Endpoint: 'http://v4', ipv6Endpoint: 'http://v6', timeoutMs: undefined };
  it('tries IPv4 then IPv6 for auto, one address otherwise', () => {
    expect(endpointsFor('auto', options).map((e) => e.family)).toEqual(['IPv4', 'IPv6']);
    expect(endpointsFor('ipv4', options).map((e) => e.url)).toEqual(['http://v4']);
    expect(endpointsFor('ipv6', options).map((e) => e.url)).toEqual(['http://v6']);
  });
});

describe('agentErrorCode', () => {
  it('keeps only a known EKS Auth error code of an agent error body, never the rest', () => {
    const echoed = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';
    expect(agentErrorCode(`{"message":"AccessDeniedException: token ${echoed} has no association"}`)).toBe(
      'AccessDeniedException',
    );
    expect(agentErrorCode(`ExpiredTokenException then InvalidTokenException`)).toBe('ExpiredTokenException');
    expect(agentErrorCode(`bad token ${echoed}`)).toBeUndefined();
  });
});
