import type { AwsCredentialIdentity } from '@aws-sdk/types';
import { LRUCache } from 'lru-cache';
import { abortable, withTimeout } from '../abortable.js';

export interface CredentialCacheOptions {
  /** Identities kept at most; the least recently used is dropped. */
  maxEntries: number;
  /** Credentials are reused until this long before they expire, then obtained afresh. */
  refreshMarginMs: number;
  /** How long one STS or agent call shared by several Mounts may take before it is given up. */
  obtainTimeoutMs: number;
  /** Lifetime assumed for credentials that carry no expiration. Default 15 minutes. */
  defaultLifetimeMs?: number;
  now?: () => number;
  /** Told of every lookup: where the metrics plug in. */
  onLookup?: (result: 'hit' | 'miss') => void;
}

interface Entry {
  credentials: AwsCredentialIdentity;
  /** Epoch ms after which the entry is not served: its expiration minus the refresh margin. */
  usableUntil: number;
}

/** The fetch context: how to obtain the credentials of the key on a miss (it holds the asking pod's token). */
interface Obtain {
  obtain: (signal: AbortSignal) => Promise<AwsCredentialIdentity>;
}

/**
 * Credentials by identity key (identityKey: auth kind, namespace, service account, role, chained role). A
 * repeat Mount of an identity makes no STS or agent call until its credentials near expiry; concurrent Mounts of
 * one identity share a single call. Never shared across keys. Failures are not cached.
 */
export class CredentialCache {
  private readonly cache: LRUCache<string, Entry, Obtain>;
  private readonly now: () => number;

  constructor(private readonly options: CredentialCacheOptions) {
    this.now = options.now ?? Date.now;
    const defaultLifetimeMs = options.defaultLifetimeMs ?? 15 * 60_000;
    this.cache = new LRUCache<string, Entry, Obtain>({
      max: options.maxEntries,
      // Expired credentials are dropped from memory when their time comes, not only when asked for.
      ttlAutopurge: true,
      fetchMethod: async (_key, _stale, { context, options: entryOptions, signal }) => {
        const attempt = withTimeout(signal, this.options.obtainTimeoutMs);
        const credentials = await context.obtain(attempt.signal).finally(attempt.done);
        const expires = credentials.expiration?.getTime() ?? this.now() + defaultLifetimeMs;
        const usableUntil = expires - this.options.refreshMarginMs;
        // lru-cache reads ttl 0 as "forever": credentials already inside the margin live 1 ms (get() skips them).
        entryOptions.ttl = Math.max(1, usableUntil - this.now());
        return { credentials, usableUntil };
      },
    });
  }

  /**
   * The cached credentials of `key` while they are usable, else those `obtain` gets; a call already in flight
   * for the key is joined. `signal` (the Mount's deadline) ends this caller's wait, not the shared call.
   */
  async get(
    key: string,
    obtain: (signal: AbortSignal) => Promise<AwsCredentialIdentity>,
    signal: AbortSignal,
  ): Promise<AwsCredentialIdentity> {
    const cached = this.cache.get(key);
    if (cached !== undefined && cached.usableUntil > this.now()) {
      this.options.onLookup?.('hit');
      return cached.credentials;
    }
    this.options.onLookup?.('miss');
    // forceRefresh: an entry inside the margin is not served; a fetch already in flight is joined, not repeated.
    const entry = await abortable(this.cache.fetch(key, { context: { obtain }, forceRefresh: true }), signal);
    if (entry === undefined) throw new Error(`credential cache: the fetch for ${key} was dropped`);
    return entry.credentials;
  }

  get size(): number {
    return this.cache.size;
  }
}
