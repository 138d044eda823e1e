/**
 * A jmesPath result as the file's text (JSON.stringify's, exactly), written within budgets. A result is a graph, not
 * a tree: `[@,@] | [@,@] | …` shares each stage's array twice, so 40 stages are 2^40 values to write from 80 array
 * slots. Every visit counts, shared or not, and the walk stops at the first value past a budget: it visits at most
 * `maxValues` values, whatever the result's written size. Iterative, so that no nesting depth overflows the stack
 * (JSON.stringify's recursion does, from a few thousand levels).
 */

export interface JsonBudgets {
  /** Values (objects, arrays, strings, numbers, booleans, nulls) one file may hold. */
  maxValues: number;
  /** Bytes of one file. */
  maxBytes: number;
}

export type JsonText =
  | { text: string }
  /** Past a budget; `limit` is its number. */
  | { over: 'maxValues' | 'maxBytes'; limit: number }
  /** An integer beyond 2^53, which JSON.parse has already rounded: writing it would change the value. */
  | { inexactNumber: true };

/** One array or object being written, and how far. */
interface Open {
  close: ']' | '}';
  /** An array, or an object's values by `keys`. */
  container: unknown[] | Record<string, unknown>;
  keys: string[] | undefined;
  next: number;
  /** Whether a member was written, so the next one needs a comma (an object leaves undefined members out). */
  wrote: boolean;
}

export function budgetedJson(result: unknown, budgets: JsonBudgets): JsonText {
  // A string is the file as is (see extract.ts); its UTF-8 length is at least its length in UTF-16 units.
  if (typeof result === 'string') {
    return result.length > budgets.maxBytes || Buffer.byteLength(result) > budgets.maxBytes
      ? { over: 'maxBytes', limit: budgets.maxBytes }
      : { text: result };
  }
  const parts: string[] = [];
  // Characters are a lower bound of the bytes: the walk stops as soon as they alone are past the budget.
  let chars = 0;
  let values = 0;
  const open: Open[] = [];
  let value = result;
  for (;;) {
    if (++values > budgets.maxValues) return { over: 'maxValues', limit: budgets.maxValues };
    let piece: string;
    if (typeof value === 'number') {
      if (Number.isInteger(value) && !Number.isSafeInteger(value)) return { inexactNumber: true };
      piece = Number.isFinite(value) ? String(value) : 'null';
    } else if (typeof value === 'string') {
      piece = JSON.stringify(value);
    } else if (Array.isArray(value)) {
      piece = '[';
      open.push({ close: ']', container: value, keys: undefined, next: 0, wrote: false });
    } else if (typeof value === 'object' && value !== null) {
      piece = '{';
      open.push({ close: '}', container: value as Record<string, unknown>, keys: Object.keys(value), next: 0, wrote: false });
    } else {
      // JSON.stringify's text of true, false and null, and of undefined in an array.
      piece = value === true ? 'true' : value === false ? 'false' : 'null';
    }
    parts.push(piece);
    chars += piece.length;
    if (chars > budgets.maxBytes) return { over: 'maxBytes', limit: budgets.maxBytes };
    // The next member to write, closing every container that has none left.
    let member: { prefix: string; value: unknown } | undefined;
    while (member === undefined) {
      const top = open.at(-1);
      if (top === undefined) {
        const text = parts.join('');
        return Buffer.byteLength(text) > budgets.maxBytes ? { over: 'maxBytes', limit: budgets.maxBytes } : { text };
      }
      member = nextMember(top);
      if (member === undefined) {
        parts.push(top.close);
        chars += 1;
        open.pop();
      }
    }
    parts.push(member.prefix);
    chars += member.prefix.length;
    value = member.value;
  }
}

function nextMember(open: Open): { prefix: string; value: unknown } | undefined {
  const { container, keys } = open;
  if (keys === undefined) {
    const items = container as unknown[];
    if (open.next >= items.length) return undefined;
    const prefix = open.next > 0 ? ',' : '';
    return { prefix, value: items[open.next++] };
  }
  while (open.next < keys.length) {
    const key = keys[open.next++] as string;
    const value = (container as Record<string, unknown>)[key];
    if (value === undefined) continue;
    const prefix = `${open.wrote ? ',' : ''}${JSON.stringify(key)}:`;
    open.wrote = true;
    return { prefix, value };
  }
  return undefined;
}
