import { createHash } from 'node:crypto';

const MAX_LENGTH = 64;
const DISALLOWED = /[^\w+=,.@-]/g;

/**
 * An STS role session name that tells CloudTrail readers which pod asked: `<namespace>.<pod>`.
 * STS allows [\w+=,.@-]{2,64}; a longer name keeps its start and gains a short hash of the whole, so two
 * long pod names that share a prefix still get distinct sessions.
 */
export function roleSessionName(namespace: string, pod: string): string {
  const full = `${namespace}.${pod}`.replace(DISALLOWED, '-');
  if (full.length <= MAX_LENGTH) return full.padEnd(2, '-');
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 8);
  return `${full.slice(0, MAX_LENGTH - hash.length - 1)}.${hash}`;
}
