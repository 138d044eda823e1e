import type { AwsCredentialIdentity } from '@aws-sdk/types';
import { LRUCache } from 'lru-cache';
import { abortable, withTimeout } from '../abortable.js';

export interface CredentialCacheOptions {
  /** Identities kept at most; the least recently used is dropped. */
  maxEntries: number;
  /**
   * Identities of one namespace kept at most; past it the namespace's own least recently used is dropped, so one
   * namespace minting identities (say, an `assumeRoleExternalId` per Mount) cannot evict the others'.
   */
  maxEntriesPerNamespace: number;
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

/** Who asks: the namespace the identity is counted in, and the token a call on its behalf is made with. */
export interface Caller {
  namespace: string;
  /** The id of the caller's token (its hash): a call made with an identical token is shared as it is. */
  tokenId: string;
  /**
   * Whether a failure of a shared call made with another caller's token is worth one call with this caller's own
   * (a refusal of that token, say). Default: never.
   */
  retryOwn?: (err: unknown) => boolean;
}

interface Entry {
  credentials: AwsCredentialIdentity;
  /** Epoch ms after which the entry is not served: its expiration minus the refresh margin. */
  usableUntil: number;
  namespace: string;
}

/** A call in flight for a key, and the token it is made with. */
interface Flight {
  tokenId: string;
  promise: Promise<Entry>;
}

type Obtain = (signal: AbortSignal) => Promise<AwsCredentialIdentity>;

/**
 * Credentials by identity key (identityKey: auth kind, namespace, service account, role, chained role). A
 * repeat Mount of an identity makes no STS or agent call until its credentials near expiry; concurrent Mounts of
 * one identity share a single call, and one whose token differs from the one that call was made with tries once
 * with its own when the shared call was refused. Never shared across keys. Failures are not cached.
 */
export class CredentialCache {
  private readonly entries: LRUCache<string, Entry>;
  /** The cached keys of each namespace, least recently used first. */
  private readonly byNamespace = new Map<string, Set<string>>();
  private readonly inFlight = new Map<string, Flight>();
  private readonly now: () => number;

  constructor(private readonly options: CredentialCacheOptions) {
    this.now = options.now ?? Date.now;
    this.entries = new LRUCache<string, Entry>({
      max: options.maxEntries,
      // Expired credentials are dropped from memory when their time comes, not only when asked for.
      ttlAutopurge: true,
      dispose: (entry, key) => this.forget(entry.namespace, key),
    });
  }

  /**
   * The cached credentials of `key` while they are usable, else those `obtain` gets; a call already in flight
   * for the key is joined. `signal` (the Mount's deadline) ends this caller's wait, not the shared call.
   */
  async get(key: string, obtain: Obtain, signal: AbortSignal, caller: Caller): Promise<AwsCredentialIdentity> {
    const cached = this.entries.get(key);
    if (cached !== undefined && cached.usableUntil > this.now()) {
      this.options.onLookup?.('hit');
      this.touch(cached.namespace, key);
      return cached.credentials;
    }
    this.options.onLookup?.('miss');
    const joined = this.inFlight.get(key);
    try {
      return (await abortable((joined ?? this.start(key, obtain, caller)).promise, signal)).credentials;
    } catch (err) {
      const another = joined !== undefined && joined.tokenId !== caller.tokenId;
      if (!another || signal.aborted || !(caller.retryOwn?.(err) ?? false)) throw err;
      // Refused with another pod's token: this pod's own may fare otherwise (one try, shared with its own token).
      const current = this.inFlight.get(key);
      const own = current?.tokenId === caller.tokenId ? current : this.start(key, obtain, caller);
      return (await abortable(own.promise, signal)).credentials;
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /** Calls `obtain` with a deadline of its own; the first call for a key is the one later callers join. */
  private start(key: string, obtain: Obtain, caller: Caller): Flight {
    const promise = this.obtainEntry(key, obtain, caller.namespace);
    const flight = { tokenId: caller.tokenId, promise };
    if (!this.inFlight.has(key)) {
      this.inFlight.set(key, flight);
      const settled = () => {
        if (this.inFlight.get(key) === flight) this.inFlight.delete(key);
      };
      promise.then(settled, settled);
    }
    return flight;
  }

  private async obtainEntry(key: string, obtain: Obtain, namespace: string): Promise<Entry> {
    const attempt = withTimeout(new AbortController().signal, this.options.obtainTimeoutMs);
    const credentials = await obtain(attempt.signal).finally(attempt.done);
    const expires = credentials.expiration?.getTime() ?? this.now() + (this.options.defaultLifetimeMs ?? 15 * 60_000);
    const entry = { credentials, usableUntil: expires - this.options.refreshMarginMs, namespace };
    // lru-cache reads ttl 0 as "forever": credentials already inside the margin live 1 ms (get() skips them).
    this.store(key, entry, Math.max(1, entry.usableUntil - this.now()));
    return entry;
  }

  private store(key: string, entry: Entry, ttl: number): void {
    // An entry replaced here is disposed of first, which takes its key out of its namespace's set.
    this.entries.set(key, entry, { ttl });
    let keys = this.byNamespace.get(entry.namespace);
    if (keys === undefined) this.byNamespace.set(entry.namespace, (keys = new Set()));
    keys.add(key);
    for (const oldest of keys) {
      if (keys.size <= this.options.maxEntriesPerNamespace) break;
      keys.delete(oldest);
      this.entries.delete(oldest);
    }
  }

  private touch(namespace: string, key: string): void {
    const keys = this.byNamespace.get(namespace);
    if (keys?.delete(key)) keys.add(key);
  }

  private forget(namespace: string, key: string): void {
    const keys = this.byNamespace.get(namespace);
    if (keys === undefined) return;
    keys.delete(key);
    if (keys.size === 0) this.byNamespace.delete(namespace);
  }
}
