import { verify as verifySignature, type KeyObject } from 'node:crypto';

/**
 * A compact JWS (RFC 7515) taken apart, and its signature checked: the pure half of verifying a service account
 * token. Nothing here trusts the token: the header and claims are only read once `signedBy` says the cluster's
 * issuer signed them.
 */

/** Projected service account tokens are about 1 KB; anything this long is no token the API server minted. */
export const MAX_TOKEN_LENGTH = 16 * 1024;

/** The algorithms the API server signs with: RS256 for RSA keys, ES256/384/512 for ECDSA keys of that curve. */
const ALGORITHMS: Record<string, { hash: string; dsaEncoding?: 'ieee-p1363' }> = {
  RS256: { hash: 'sha256' },
  ES256: { hash: 'sha256', dsaEncoding: 'ieee-p1363' },
  ES384: { hash: 'sha384', dsaEncoding: 'ieee-p1363' },
  ES512: { hash: 'sha512', dsaEncoding: 'ieee-p1363' },
};

export interface Jws {
  alg: string;
  kid: string | undefined;
  /** The claims as written, unverified until `signedBy` returns true. */
  claims: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

/** Why a token is not one the cluster's issuer signed and minted as a service account token; never quotes it. */
export class UnverifiedToken extends Error {
  override readonly name = 'UnverifiedToken';
}

/** Checked before anything else is done with a token, its hash included. */
export function assertTokenLength(token: string): void {
  if (token.length > MAX_TOKEN_LENGTH) {
    throw new UnverifiedToken(`it is ${token.length} characters long, over the ${MAX_TOKEN_LENGTH} a service account token can be`);
  }
}

export function parseJws(token: string): Jws {
  assertTokenLength(token);
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((part) => !/^[A-Za-z0-9_-]+$/.test(part))) {
    throw new UnverifiedToken('it is not a JWT (three base64url parts separated by dots)');
  }
  const [header, payload, signature] = parts as [string, string, string];
  const head = jsonObject(header, 'header');
  const alg = head.alg;
  if (typeof alg !== 'string' || ALGORITHMS[alg] === undefined) {
    throw new UnverifiedToken(`its algorithm is not one the API server signs with (${Object.keys(ALGORITHMS).join(', ')})`);
  }
  const kid = head.kid;
  return {
    alg,
    kid: typeof kid === 'string' ? kid : undefined,
    claims: jsonObject(payload, 'claims'),
    signingInput: `${header}.${payload}`,
    signature: Buffer.from(signature, 'base64url'),
  };
}

/** True when `key` made the signature, with the algorithm the header names and the key's type allows. */
export function signedBy(jws: Jws, key: KeyObject): boolean {
  const algorithm = ALGORITHMS[jws.alg];
  if (algorithm === undefined || keyTypeOf(jws.alg) !== key.asymmetricKeyType) return false;
  try {
    return verifySignature(
      algorithm.hash,
      Buffer.from(jws.signingInput),
      algorithm.dsaEncoding === undefined ? key : { key, dsaEncoding: algorithm.dsaEncoding },
      jws.signature,
    );
  } catch {
    // A signature of the wrong length for the curve, say: not made by this key.
    return false;
  }
}

function keyTypeOf(alg: string): 'rsa' | 'ec' {
  return alg.startsWith('RS') ? 'rsa' : 'ec';
}

function jsonObject(part: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new UnverifiedToken(`its ${what} is not base64url JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UnverifiedToken(`its ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}
