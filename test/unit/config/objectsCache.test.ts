import { describe, expect, it } from 'vitest';
import { ObjectsCache } from '../../../src/config/objectsCache.js';
import { parseObjects, type ObjectsContext } from '../../../src/config/objects.js';
import { ProviderError } from '../../../src/errors.js';

const yaml = '- objectName: db\n  objectType: secretsmanager\n- objectName: /app/flag\n  objectType: ssmparameter\n';
const ctx = { region: 'us-east-1', translation: '_', defaultMode: 0o644 } as const;
const parseObjectsCached = new ObjectsCache().parse;

describe('ObjectsCache', () => {
  it('answers what parseObjects answers, once per text and context', () => {
    const first = parseObjectsCached(yaml, ctx);
    expect(first).toEqual(parseObjects(yaml, ctx));
    expect(parseObjectsCached(yaml, { ...ctx })).toBe(first);
  });

  it('each cache is its own: one pipeline never serves what another parsed', () => {
    const first = parseObjectsCached(yaml, ctx);
    expect(new ObjectsCache().parse(yaml, ctx)).not.toBe(first);
  });

  it('a different context is a different parse', () => {
    const first = parseObjectsCached(yaml, ctx);
    expect(parseObjectsCached(yaml, { ...ctx, defaultMode: 0o600 })).not.toBe(first);
    expect(parseObjectsCached(yaml, { ...ctx, translation: false })).not.toBe(first);
    expect(parseObjectsCached(yaml, { ...ctx, region: 'eu-west-1' })).not.toBe(first);
  });

  it('what it serves is frozen, so no Mount can change it for another', () => {
    const parsed = parseObjectsCached(yaml, ctx);
    expect(Object.isFrozen(parsed.objects)).toBe(true);
    expect(Object.isFrozen(parsed.objects[0]!.primary)).toBe(true);
    expect(() => (parsed.objects[0]!.mode = 0o777)).toThrow(TypeError);
  });

  it('a bad SecretProviderClass fails every time, with the refusal remembered rather than parsed again', () => {
    const bad = '- objectName: x\n  objectTipe: secretsmanager\n';
    const refusal = (objects: string, context: ObjectsContext = ctx) => {
      try {
        parseObjectsCached(objects, context);
      } catch (err) {
        return err;
      }
      throw new Error('not refused');
    };
    const first = refusal(bad);
    expect(first).toBeInstanceOf(ProviderError);
    expect((first as ProviderError).message).toMatch(/objectTipe/);
    expect(refusal(bad)).toBe(first);
    // Another context is another verdict.
    expect(refusal(bad, { ...ctx, defaultMode: 0o600 })).not.toBe(first);
  });
});
