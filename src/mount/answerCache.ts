/**
 * Rotation re-publishes answered without AWS. The driver calls Mount at a pod's start and again at every rotation
 * poll of its volume; a node's AWS calls then grew with pods × objects. A re-publish (a target path this provider
 * already served to the same identity: kubelet's path is stable for a volume and holds the pod's uid) within
 * --rotation-cache-ttl of a fetch of the same objects by the same identity is answered from that fetch, so the calls
 * grow with the distinct (identity, SecretProviderClass) pairs instead. A first mount never reads it: a pod started
 * after a secret was rotated gets the new value.
 */
import { LRUCache } from 'lru-cache';
import type { MountResponseMessage } from '../server/proto.js';

/** How a Mount was answered: fetched from AWS (or with a fetch in flight), from a fresh answer, or a stale one. */
export type AnswerSource = 'fetched' | 'cache' | 'stale';
export type MountKind = 'first' | 'republish';

export interface PublishedPathsOptions {
  maxIdentities: number;
  maxPathsPerIdentity: number;
  /** A path unseen this long is forgotten, as its volume was probably unpublished. */
  forgetAfterMs: number;
}

/**
 * The target paths served, per identity: bounded in identities and in paths per identity, so one identity's pods
 * cannot push another's out. A forgotten path only makes its next re-publish fetch, as a first mount does.
 */
export class PublishedPaths {
  private readonly byIdentity: LRUCache<string, LRUCache<string, true>>;

  constructor(private readonly options: PublishedPathsOptions) {
    this.byIdentity = new LRUCache({ max: options.maxIdentities, ttl: options.forgetAfterMs, updateAgeOnGet: true });
  }

  /** Whether `path` of pod `podUid` was served to `identityKey` and not forgotten since; seeing it again renews it. */
  seen(identityKey: string, podUid: string, path: string): boolean {
    return this.byIdentity.get(identityKey)?.get(pathKey(podUid, path)) === true;
  }

  served(identityKey: string, podUid: string, path: string): void {
    let paths = this.byIdentity.get(identityKey);
    if (paths === undefined) {
      const { maxPathsPerIdentity: max, forgetAfterMs: ttl } = this.options;
      // Bounded by size, not `max`: lru-cache allocates `max` slots up front, ~40 KB per identity at 1,024, which a
      // node's few hundred identities would hold whatever their pods (S3's 60 identities: 2.5 MB).
      const bound = { maxSize: max, sizeCalculation: () => 1 };
      this.byIdentity.set(identityKey, (paths = new LRUCache({ ...bound, ttl, updateAgeOnGet: true })));
    }
    paths.set(pathKey(podUid, path), true);
  }
}

function pathKey(podUid: string, path: string): string {
  return JSON.stringify([podUid, path]);
}

export interface AnswerCacheOptions {
  /** Answers younger than this are served to re-publishes. 0 turns the cache off. */
  ttlMs: number;
  /** Past the TTL, answers this much older are still served while the region throttles; never older. */
  graceMs: number;
  maxEntries: number;
  maxBytes: number;
  now?: () => number;
}

interface Answer<T> {
  value: T;
  fetchedAt: number;
}

export interface CachedAnswer<T> {
  value: T;
  ageMs: number;
}

/**
 * Answers by fetch key (see mount.ts fetchKey: the parsed objects, the identity key, both regions), so an answer
 * is only ever served to the identity it was fetched for. Bounded in entries and in the bytes of the files held;
 * an answer is dropped from memory once it is older than the TTL and the grace, and never served after.
 */
export class AnswerCache<T extends { response: MountResponseMessage }> {
  private readonly entries: LRUCache<string, Answer<T>> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: AnswerCacheOptions) {
    this.now = options.now ?? Date.now;
    if (options.ttlMs <= 0) return;
    this.entries = new LRUCache<string, Answer<T>>({
      max: options.maxEntries,
      maxSize: options.maxBytes,
      sizeCalculation: (answer) => Math.max(1, answerBytes(answer.value.response)),
      ttl: options.ttlMs + options.graceMs,
      ttlAutopurge: true,
    });
  }

  /** The answer for `key` fetched less than the TTL ago. */
  fresh(key: string): CachedAnswer<T> | undefined {
    const answer = this.usable(key);
    return answer !== undefined && answer.ageMs < this.options.ttlMs ? answer : undefined;
  }

  /** The answer for `key` fetched less than the TTL and the grace ago. */
  withinGrace(key: string): CachedAnswer<T> | undefined {
    return this.usable(key);
  }

  store(key: string, value: T): void {
    // An answer larger than the whole cache is not kept (lru-cache refuses it), nor does it evict the others.
    this.entries?.set(key, { value, fetchedAt: this.now() });
  }

  get size(): number {
    return this.entries?.size ?? 0;
  }

  get bytes(): number {
    return this.entries?.calculatedSize ?? 0;
  }

  private usable(key: string): CachedAnswer<T> | undefined {
    const answer = this.entries?.get(key);
    if (answer === undefined) return undefined;
    const ageMs = this.now() - answer.fetchedAt;
    if (ageMs >= this.options.ttlMs + this.options.graceMs) return undefined;
    return { value: answer.value, ageMs };
  }
}

/** What an answer holds in memory, near enough: its files' contents and paths, its versions' ids. */
function answerBytes(response: MountResponseMessage): number {
  let bytes = 0;
  for (const file of response.files) bytes += file.contents.length + file.path.length;
  for (const version of response.objectVersion) bytes += version.id.length + version.version.length;
  return bytes;
}
