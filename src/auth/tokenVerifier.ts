import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { MountConfig } from '../config/types.js';
import type { ServiceAccountIssuerSource } from '../k8s/serviceAccountIssuer.js';
import { assertTokenLength, UnverifiedToken, parseJws, signedBy } from './jwt.js';
import {
  claimsProblem,
  expectationOf,
  LEEWAY_SECONDS,
  readClaims,
  requestToken,
  tokenRefused,
  type TokenClaims,
} from './token.js';

export interface TokenVerifierOptions {
  /** Verified tokens remembered at most (by hash), each until it expires; the least recently used is dropped. */
  maxEntries: number;
  now?: () => number;
  /** Told of every lookup of a verified token: where the metrics plug in. */
  onLookup?: (result: 'hit' | 'miss') => void;
}

/**
 * A remembered signature is checked again after this long, so a key the cluster withdrew stops vouching for the
 * tokens it signed (the keys themselves are read again after 10 minutes); one signature check per token this often
 * costs nothing.
 */
const REVERIFY_AFTER_MS = 10 * 60_000;

/** A token that passed every check for the Mount, and the id it is known by (its SHA-256, never itself). */
export interface VerifiedToken {
  token: string;
  id: string;
}

/**
 * Verifies the service account token of a Mount before any credentials are served for it: signed by the cluster's
 * issuer with one of its published keys (read from the API server, src/k8s/serviceAccountIssuer.ts), issued by
 * it, for the audience, for the pod's service account, within its lifetime, and bound to the Mount's pod when it
 * is bound to one. The same checks STS and EKS Auth make, done locally, so a storm of Mounts costs no API call
 * per pod. A token whose signature checked out is remembered by its hash until it expires (at most 10 minutes);
 * its claims are still checked against each Mount that presents it.
 */
export class TokenVerifier {
  /** By token hash: its claims, and until when (epoch ms) its signature is taken as checked. */
  private readonly verified: LRUCache<string, { claims: TokenClaims; until: number }>;
  private readonly now: () => number;

  constructor(
    private readonly issuer: ServiceAccountIssuerSource,
    private readonly options: TokenVerifierOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.verified = new LRUCache({ max: options.maxEntries, ttlAutopurge: true });
  }

  /** The Mount's token for `audience` once verified; MissingServiceAccountToken or InvalidServiceAccountToken else. */
  async podToken(config: MountConfig, audience: string, why = ''): Promise<VerifiedToken> {
    const token = requestToken(config, audience, why);
    const expected = expectationOf(config, audience);
    let id: string;
    let claims: TokenClaims | undefined;
    try {
      assertTokenLength(token);
      id = createHash('sha256').update(token).digest('base64url');
      const remembered = this.verified.get(id);
      claims = remembered !== undefined && remembered.until > this.now() ? remembered.claims : undefined;
      this.options.onLookup?.(claims === undefined ? 'miss' : 'hit');
      if (claims === undefined) {
        claims = await this.signedClaims(token);
        const ttl = Math.min(Math.floor((claims.exp + LEEWAY_SECONDS) * 1000 - this.now()), REVERIFY_AFTER_MS);
        if (ttl > 0) this.verified.set(id, { claims, until: this.now() + ttl }, { ttl });
      }
    } catch (err) {
      if (err instanceof UnverifiedToken) throw tokenRefused(expected, err.message);
      throw err;
    }
    const problem = claimsProblem(claims, expected, this.now() / 1000);
    if (problem !== undefined) throw tokenRefused(expected, problem);
    return { token, id };
  }

  /** The claims of a token the cluster's issuer signed, or UnverifiedToken saying why it is not one. */
  private async signedClaims(token: string): Promise<TokenClaims> {
    const jws = parseJws(token);
    const { issuer, keys } = await this.issuer.keysFor(jws.kid);
    if (!keys.some((key) => signedBy(jws, key))) {
      throw new UnverifiedToken(
        keys.length === 0
          ? `it names a signing key the API server does not publish (GET /openid/v1/jwks)`
          : `its signature was not made by the cluster's service account issuer ${issuer}`,
      );
    }
    const claims = readClaims(jws.claims);
    if (claims.iss !== issuer) {
      throw new UnverifiedToken(`it was issued by ${claims.iss}, not by the cluster's service account issuer ${issuer}`);
    }
    return claims;
  }
}
