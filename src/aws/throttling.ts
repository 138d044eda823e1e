import { LRUCache } from 'lru-cache';
import type { BatchThrottling } from './types.js';

export interface RegionThrottlingOptions {
  /** How long GetSecretValue is preferred in a region after BatchGetSecretValue was throttled there. */
  batchCooldownMs: number;
  /** How long a service counts as throttling in a region after AWS throttled one attempt of a call to it there. */
  pressureMs: number;
  /** After a re-publish's fetch was throttled, how long the re-publishes of the same objects make no call. */
  republishBackoffMs: number;
  /** Told when a region's Secrets Manager calls switch to `to` (and back when the cool-down ends). */
  onSwitch?: (region: string, to: 'GetSecretValue' | 'BatchGetSecretValue') => void;
}

/**
 * What AWS's throttling said lately, per region. AWS throttles per account and region, across every node and app of
 * the account: a throttled region is one where the provider should spend its calls on what only AWS can answer
 * (first mounts), not on what it already holds. Regions only have to look like one (config/parameters): the bound
 * keeps the set finite whatever comes in.
 */
export class RegionThrottling implements BatchThrottling {
  private readonly batchThrottled: LRUCache<string, true>;
  private readonly pressured: LRUCache<string, true>;
  private readonly throttledRepublishes: LRUCache<string, true>;
  /** First mounts fetching, by region and service: while the service throttles there, the quota is theirs. */
  private readonly firstMounts = new Map<string, number>();
  private readonly onSwitch: RegionThrottlingOptions['onSwitch'];

  constructor(options: RegionThrottlingOptions) {
    this.batchThrottled = new LRUCache<string, true>({
      max: 64,
      ttl: options.batchCooldownMs,
      ttlAutopurge: true,
      dispose: (_value, region, reason) => {
        if (reason === 'expire') options.onSwitch?.(region, 'BatchGetSecretValue');
      },
    });
    this.pressured = new LRUCache<string, true>({ max: 64, ttl: options.pressureMs });
    // One per distinct fetch key at most, like the answers; a forgotten one only lets a re-publish call again.
    this.throttledRepublishes = new LRUCache<string, true>({ max: 4096, ttl: Math.max(1, options.republishBackoffMs) });
    this.onSwitch = options.onSwitch;
  }

  prefersSingle(region: string): boolean {
    return this.batchThrottled.has(region);
  }

  markBatchThrottled(region: string): void {
    if (!this.batchThrottled.has(region)) this.onSwitch?.(region, 'GetSecretValue');
    this.batchThrottled.set(region, true);
  }

  /** AWS throttled one attempt of a call to `service` in `region` (retried or not). */
  noteThrottled(region: string, service: string): void {
    this.pressured.set(serviceIn(region, service), true);
  }

  /** Whether AWS throttled a call to any of `services` in `region` lately. */
  isThrottling(region: string, services: readonly string[]): boolean {
    return services.some((service) => this.pressured.has(serviceIn(region, service)));
  }

  /** A re-publish's fetch of `key` was throttled. */
  noteRepublishThrottled(key: string): void {
    this.throttledRepublishes.set(key, true);
  }

  /** Whether a re-publish's fetch of `key` was throttled less than the back-off ago. */
  republishThrottledLately(key: string): boolean {
    return this.throttledRepublishes.has(key);
  }

  /** A first mount starts fetching from `services` in `region`; call what is returned when it is over, however it ended. */
  firstMountFetching(region: string, services: readonly string[]): () => void {
    const keys = services.map((service) => serviceIn(region, service));
    for (const key of keys) this.firstMounts.set(key, (this.firstMounts.get(key) ?? 0) + 1);
    return () => {
      for (const key of keys) {
        const left = (this.firstMounts.get(key) ?? 1) - 1;
        if (left > 0) this.firstMounts.set(key, left);
        else this.firstMounts.delete(key);
      }
    };
  }

  /** Whether first mounts are fetching from any of `services` in `region` now. */
  firstMountsFetching(region: string, services: readonly string[]): boolean {
    return services.some((service) => this.firstMounts.has(serviceIn(region, service)));
  }
}

function serviceIn(region: string, service: string): string {
  return `${region} ${service}`;
}
