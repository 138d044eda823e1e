import { LRUCache } from 'lru-cache';
import { parseObjects, type ObjectsContext, type ParsedObjects } from './objects.js';

/**
 * parseObjects, remembered. Parsing and validating the objects YAML is most of a Mount's CPU (~1–2 ms for 40
 * objects, against ~0.3 ms for everything else the provider does), and every pod of a Deployment, and every
 * rotation poll, sends the same SecretProviderClass text. The result depends only on the text and the context
 * (region, failover region, path translation, default mode), which form the key; nothing about the pod or its
 * identity is in it. Results are frozen, so no Mount can change what another is served. Failures are not
 * remembered (a bad SecretProviderClass costs its parse every time, as before).
 */
const cache = new LRUCache<string, ParsedObjects>({
  max: 256,
  // Keys hold the whole objects text: bound the memory they take, not only their number.
  maxSize: 8 * 1024 * 1024,
  sizeCalculation: (_value, key) => Math.max(1, key.length * 2),
});

export function parseObjectsCached(source: string, ctx: ObjectsContext): ParsedObjects {
  const key = JSON.stringify([source, ctx.region ?? null, ctx.failoverRegion ?? null, ctx.translation, ctx.defaultMode]);
  const found = cache.get(key);
  if (found !== undefined) return found;
  const parsed = deepFreeze(parseObjects(source, ctx));
  cache.set(key, parsed);
  return parsed;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
