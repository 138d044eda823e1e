import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { isProviderError, type ProviderError } from '../errors.js';
import { parseObjects, type ObjectsContext, type ParsedObjects } from './objects.js';

/**
 * parseObjects, remembered. Parsing and validating the objects YAML is most of a Mount's CPU (~1–2 ms for 40
 * objects, against ~0.3 ms for everything else the provider does), and every pod of a Deployment, and every
 * rotation poll, sends the same SecretProviderClass text. The result depends only on the text and the context
 * (region, failover region, path translation, default mode); their hash is the key, and nothing about the pod or
 * its identity is in it. Results are frozen, so no Mount can change what another is served. Refusals are
 * remembered too, apart from successes so that a stream of bad texts cannot evict good ones: the driver retries a
 * failed Mount every few seconds, and a text that runs into a parsing budget costs that budget each time. One per
 * Mount pipeline (src/mount/core.ts): priming's never shares the provider's.
 */
export class ObjectsCache {
  private readonly parsed = new LRUCache<string, ParsedObjects>({
    max: 256,
    // A parsed config grows with its text: bound the memory they take, not only their number.
    maxSize: 8 * 1024 * 1024,
  });
  private readonly refused = new LRUCache<string, ProviderError>({ max: 256 });

  readonly parse = (source: string, ctx: ObjectsContext): ParsedObjects => {
    // The context's JSON holds no raw newline, so the first one ends it: no text and context pair reads as another.
    const key = createHash('sha256')
      .update(JSON.stringify([ctx.region ?? null, ctx.failoverRegion ?? null, ctx.translation, ctx.defaultMode]))
      .update('\n')
      .update(source)
      .digest('base64');
    const found = this.parsed.get(key);
    if (found !== undefined) return found;
    const refusal = this.refused.get(key);
    if (refusal !== undefined) throw refusal;
    let result: ParsedObjects;
    try {
      result = deepFreeze(parseObjects(source, ctx));
    } catch (err) {
      // Only our own verdicts on the text: anything else is a fault of ours that must not stick.
      if (isProviderError(err)) this.refused.set(key, err);
      throw err;
    }
    this.parsed.set(key, result, { size: Math.max(1, source.length * 2) });
    return result;
  };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
