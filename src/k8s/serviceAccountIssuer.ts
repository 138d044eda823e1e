import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { ProviderError } from '../errors.js';
import { httpStatusOf } from './cluster.js';
import type { CoreApi } from './coreApi.js';

/** Who signs the cluster's service account tokens, and with which keys. */
export interface IssuerKeys {
  issuer: string;
  /** The keys of `kid`; every published key when the token names none. Empty: no such key is published. */
  keys: KeyObject[];
}

export interface ServiceAccountIssuerSource {
  /**
   * The issuer and its keys for a token signed with `kid`. A `kid` not yet known makes one fresh read of the
   * API server's discovery endpoints (at most one per `minRefetchIntervalMs`), so a rotated signing key is picked
   * up at once and a flood of made-up kids costs no more than that.
   */
  keysFor(kid: string | undefined): Promise<IssuerKeys>;
}

export interface ServiceAccountIssuerOptions {
  /** Least time between two reads of the discovery endpoints. Default 10 s. */
  minRefetchIntervalMs?: number;
  /** Keys older than this are read again before use, so a key the cluster withdrew stops verifying. Default 10 min. */
  maxAgeMs?: number;
  /** Wraps every API call; where the QPS/burst limit plugs in. */
  throttle?: <T>(call: () => Promise<T>) => Promise<T>;
  onCall?: (resource: IssuerDocument, outcome: 'ok' | 'error') => void;
  now?: () => number;
}

export type IssuerDocument = 'openid-configuration' | 'jwks';

interface Published {
  issuer: string;
  byKid: Map<string, KeyObject>;
  fetchedAt: number;
}

const PATHS: Record<IssuerDocument, string> = {
  'openid-configuration': '/.well-known/openid-configuration',
  jwks: '/openid/v1/jwks',
};

/**
 * The service account issuer of the cluster, read from the API server's own OIDC discovery endpoints through the
 * provider's Kubernetes client: `/.well-known/openid-configuration` for the issuer and `/openid/v1/jwks` for its
 * public keys (the same keys STS fetches to verify IRSA tokens). Cached; concurrent reads are shared.
 */
export class ServiceAccountIssuer implements ServiceAccountIssuerSource {
  private published: Published | undefined;
  private reading: Promise<Published> | undefined;
  private lastRead = Number.NEGATIVE_INFINITY;
  private readonly now: () => number;

  constructor(
    private readonly loadApi: () => Promise<CoreApi>,
    private readonly options: ServiceAccountIssuerOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  async keysFor(kid: string | undefined): Promise<IssuerKeys> {
    let published = this.published ?? (await this.read());
    const unknownKid = kid !== undefined && !published.byKid.has(kid);
    const old = this.now() - published.fetchedAt > (this.options.maxAgeMs ?? 10 * 60_000);
    if ((unknownKid || old) && this.mayReadAgain()) {
      try {
        published = await this.read();
      } catch (err) {
        // Known keys stay usable while the API server cannot be read; an unknown kid cannot be judged.
        if (unknownKid) throw err;
      }
    }
    const keys = kid === undefined ? [...published.byKid.values()] : [published.byKid.get(kid)].filter((k) => k !== undefined);
    return { issuer: published.issuer, keys };
  }

  private mayReadAgain(): boolean {
    return this.reading !== undefined || this.now() - this.lastRead >= (this.options.minRefetchIntervalMs ?? 10_000);
  }

  private read(): Promise<Published> {
    this.reading ??= this.readBoth().finally(() => (this.reading = undefined));
    return this.reading;
  }

  private async readBoth(): Promise<Published> {
    this.lastRead = this.now();
    const api = await this.loadApi();
    // One after the other: both then go over the one kept-alive connection the lookups use.
    const configuration = await this.get('openid-configuration', () => api.readOpenIdConfiguration());
    const jwks = await this.get('jwks', () => api.readOpenIdKeys());
    const issuer = (configuration as { issuer?: unknown } | null)?.issuer;
    if (typeof issuer !== 'string' || issuer === '') {
      throw unusable(`GET ${PATHS['openid-configuration']} answered without an "issuer"`);
    }
    const byKid = publicKeys(jwks);
    if (byKid.size === 0) throw unusable(`GET ${PATHS.jwks} answered no RSA or EC signing key`);
    this.published = { issuer, byKid, fetchedAt: this.now() };
    return this.published;
  }

  private async get(document: IssuerDocument, request: () => Promise<unknown>): Promise<unknown> {
    try {
      const answer = await (this.options.throttle ?? ((call) => call()))(request);
      this.options.onCall?.(document, 'ok');
      return answer;
    } catch (err) {
      this.options.onCall?.(document, 'error');
      throw discoveryError(PATHS[document], err);
    }
  }
}

/** The signing keys of a JWK set by kid; a key node:crypto cannot import (or not for signatures) is left out. */
export function publicKeys(jwks: unknown): Map<string, KeyObject> {
  const byKid = new Map<string, KeyObject>();
  const keys = (jwks as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) return byKid;
  keys.forEach((jwk: unknown, index) => {
    if (typeof jwk !== 'object' || jwk === null) return;
    const { kid, kty, use } = jwk as { kid?: unknown; kty?: unknown; use?: unknown };
    if ((kty !== 'RSA' && kty !== 'EC') || (use !== undefined && use !== 'sig')) return;
    try {
      byKid.set(typeof kid === 'string' ? kid : `#${index}`, createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }));
    } catch {
      // Not a key we can verify with: tokens signed by it are refused as signed by an unknown key.
    }
  });
  return byKid;
}

const FIX =
  `the provider verifies every pod's service account token with the keys of the cluster's service account issuer, ` +
  `read from the API server`;

function unusable(what: string): ProviderError {
  return new ProviderError(
    'KubernetesUnavailable',
    `Kubernetes API: ${what}; ${FIX}: check that the API server runs with --service-account-issuer set to a URL`,
  );
}

function discoveryError(path: string, err: unknown): ProviderError {
  const code = httpStatusOf(err);
  if (code === 401 || code === 403) {
    return new ProviderError(
      'KubernetesAccessDenied',
      `Kubernetes API refused GET ${path} (HTTP ${code}); ${FIX}: the provider's ClusterRole must allow "get" on the ` +
        `nonResourceURLs /.well-known/openid-configuration and /openid/v1/jwks (the chart grants it)`,
      { cause: err },
    );
  }
  if (code === 404) {
    return new ProviderError(
      'KubernetesUnavailable',
      `Kubernetes API: GET ${path}: not found; ${FIX}: the API server serves it when --service-account-issuer is a ` +
        `URL (ServiceAccountIssuerDiscovery, on since Kubernetes 1.21)`,
      { cause: err },
    );
  }
  const reason = code !== undefined ? `HTTP ${code}` : err instanceof Error ? err.message : String(err);
  return new ProviderError(
    'KubernetesUnavailable',
    `cannot read GET ${path} from the Kubernetes API (${reason}); ${FIX}: the next Mount tries again`,
    { cause: err },
  );
}
