import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { budgetedJson as written, type JsonBudgets } from '../../../src/files/budgetedJson.js';
import { searchJmesPath } from '../../../src/config/jmes.js';

const WIDE = { maxValues: 1_000_000, maxBytes: 64 * 1024 * 1024 };

/** `[@,@] | [@,@] | …`: each stage holds the previous one twice, so `stages` stages are 2^stages leaves. */
function doubled(stages: number): unknown {
  return searchJmesPath({ a: 1 }, Array.from({ length: stages }, () => '[@,@]').join(' | '));
}

/** The text written, for comparing (the function gives bytes). */
function budgetedJson(value: unknown, budgets: JsonBudgets) {
  const result = written(value, budgets);
  return 'bytes' in result ? { text: result.bytes.toString('utf8'), inexactNumber: result.inexactNumber } : result;
}

/** Numbers JSON.parse can hold exactly (the others are refused, see below). */
function withoutUnsafeIntegers(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value), (_key, x: unknown) =>
    typeof x === 'number' && Number.isInteger(x) && !Number.isSafeInteger(x) ? 0 : x,
  ) as unknown;
}

describe('budgetedJson', () => {
  it('writes what JSON.stringify writes, for any JSON value within budget (a string itself as is)', () => {
    fc.assert(
      fc.property(fc.jsonValue().map(withoutUnsafeIntegers), (value) => {
        expect(budgetedJson(value, WIDE)).toEqual({ text: typeof value === 'string' ? value : JSON.stringify(value), inexactNumber: false });
      }),
    );
  });

  it('writes a string as is, not as JSON', () => {
    expect(budgetedJson('a "quoted" line\n', WIDE)).toEqual({ text: 'a "quoted" line\n', inexactNumber: false });
  });

  it('leaves undefined members out of objects and writes them as null in arrays, as JSON.stringify does', () => {
    const value = { a: undefined, b: [undefined, 1], c: Infinity, d: -0 };
    expect(budgetedJson(value, WIDE)).toEqual({ text: JSON.stringify(value), inexactNumber: false });
  });

  it('counts every visit of a shared value: 40 doubling stages stop at the value budget, not after 2^40 steps', () => {
    expect(budgetedJson(doubled(40), { maxValues: 100_000, maxBytes: 1 << 30 })).toEqual({ over: 'maxValues', limit: 100_000 });
  });

  it('writes a shared value each time it occurs, within budget', () => {
    // 2^3 - 1 arrays, 2^3 objects, 2^3 numbers.
    expect(budgetedJson(doubled(3), { maxValues: 23, maxBytes: 1000 })).toEqual({ text: '[[[{"a":1},{"a":1}],[{"a":1},{"a":1}]],[[{"a":1},{"a":1}],[{"a":1},{"a":1}]]]', inexactNumber: false });
    expect(budgetedJson(doubled(3), { maxValues: 22, maxBytes: 1000 })).toEqual({ over: 'maxValues', limit: 22 });
  });

  it('stops at the byte budget, counted in UTF-8', () => {
    expect(budgetedJson(['abc'], { maxValues: 10, maxBytes: 7 })).toEqual({ text: '["abc"]', inexactNumber: false });
    expect(budgetedJson(['abc'], { maxValues: 10, maxBytes: 6 })).toEqual({ over: 'maxBytes', limit: 6 });
    // 5 characters, 8 bytes.
    expect(budgetedJson(['ééé'], { maxValues: 10, maxBytes: 10 })).toEqual({ text: '["ééé"]', inexactNumber: false });
    expect(budgetedJson(['ééé'], { maxValues: 10, maxBytes: 9 })).toEqual({ over: 'maxBytes', limit: 9 });
    expect(budgetedJson('ééé', { maxValues: 1, maxBytes: 6 })).toEqual({ text: 'ééé', inexactNumber: false });
    expect(budgetedJson('ééé', { maxValues: 1, maxBytes: 5 })).toEqual({ over: 'maxBytes', limit: 5 });
  });

  it('counts a piece the buffer cut short as past the budget', () => {
    // 16 bytes: 3 per euro sign.
    expect(budgetedJson(['€€€€'], { maxValues: 10, maxBytes: 16 })).toEqual({ text: '["€€€€"]', inexactNumber: false });
    for (const maxBytes of [4, 14, 15]) expect(budgetedJson(['€€€€'], { maxValues: 10, maxBytes })).toEqual({ over: 'maxBytes', limit: maxBytes });
    expect(budgetedJson(['x'.repeat(5000), '€'.repeat(3000)], { maxValues: 10, maxBytes: 14_010 })).toEqual({
      text: JSON.stringify(['x'.repeat(5000), '€'.repeat(3000)]),
      inexactNumber: false,
    });
  });

  it('stops at the byte budget long before a wide result is written whole', () => {
    const wide = searchJmesPath('x'.repeat(1000), Array.from({ length: 30 }, () => '[@,@]').join(' | '));
    expect(budgetedJson(wide, { maxValues: 1 << 30, maxBytes: 1024 * 1024 })).toEqual({ over: 'maxBytes', limit: 1024 * 1024 });
  });

  it('finds an integer JSON.parse has rounded, however deep', () => {
    const value = JSON.parse('{"a":[1,{"b":[12345678901234567890]}]}') as unknown;
    expect(budgetedJson(value, WIDE)).toEqual({ text: JSON.stringify(value), inexactNumber: true });
    expect(budgetedJson(2 ** 53, WIDE)).toEqual({ text: String(2 ** 53), inexactNumber: true });
    expect(budgetedJson([2 ** 53 - 1, 1.5, 1e-300], WIDE)).toEqual({ text: JSON.stringify([2 ** 53 - 1, 1.5, 1e-300]), inexactNumber: false });
  });

  it('writes a value nested deeper than the call stack would allow a recursive walk', () => {
    const deep = JSON.parse(`${'['.repeat(50_000)}${']'.repeat(50_000)}`) as unknown;
    expect(budgetedJson(deep, WIDE)).toEqual({ text: `${'['.repeat(50_000)}${']'.repeat(50_000)}`, inexactNumber: false });
  });
});
