import { partition } from '@aws-sdk/core/client';

/**
 * Whether the AWS SDK's partition data lists `name` as a region. The SDK would also sign for any name shaped like one
 * (`zz-1` falls back to the aws partition's DNS suffix), so a typo otherwise reaches the network and fails as an
 * unreachable region; and a name that only looks like a region must not become a metric label (one series each).
 * Listed regions carry a description there; names that only match a partition's pattern do not.
 */
export function isKnownRegion(name: string): boolean {
  return 'description' in partition(name);
}

/** The value a region takes as a metric label: a listed region itself, anything else `other`. */
export function regionLabel(name: string): string {
  return name === '' || isKnownRegion(name) ? name : 'other';
}
