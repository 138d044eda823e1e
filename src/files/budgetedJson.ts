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
  /** The file's bytes; `inexactNumber`: they hold an integer beyond 2^53, which JSON.parse has already rounded. */
  | { bytes: Buffer; inexactNumber: boolean }
  /** Past a budget; `limit` is its number. */
  | { over: 'maxValues' | 'maxBytes'; limit: number };

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
    const bytes = result.length > budgets.maxBytes ? undefined : Buffer.from(result, 'utf8');
    return bytes === undefined || bytes.length > budgets.maxBytes
      ? { over: 'maxBytes', limit: budgets.maxBytes }
      : { bytes, inexactNumber: false };
  }
  const output = new Output(budgets.maxBytes);
  const overBytes = { over: 'maxBytes', limit: budgets.maxBytes } as const;
  let values = 0;
  let inexactNumber = false;
  const open: Open[] = [];
  let value = result;
  for (;;) {
    if (++values > budgets.maxValues) return { over: 'maxValues', limit: budgets.maxValues };
    let piece: string;
    if (typeof value === 'number') {
      if (Number.isInteger(value) && !Number.isSafeInteger(value)) inexactNumber = true;
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
    if (!output.write(piece)) return overBytes;
    // The next member to write, closing every container that has none left.
    let member: { prefix: string; value: unknown } | undefined;
    while (member === undefined) {
      const top = open.at(-1);
      if (top === undefined) return { bytes: output.bytes(), inexactNumber };
      member = nextMember(top);
      if (member === undefined) {
        if (!output.write(top.close)) return overBytes;
        open.pop();
      }
    }
    if (!output.write(member.prefix)) return overBytes;
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

/**
 * The file's bytes, encoded as the walk goes into memory outside the V8 heap: the worker's heap limit (a few MB)
 * then bounds the walk and the evaluation, not the file, which the byte budget bounds. Its capacity stops 4 bytes
 * past the budget, so that a piece cut short for want of room (UTF-8 takes at most 3 bytes per UTF-16 unit) still
 * leaves the length past the budget.
 */
class Output {
  private buffer: Buffer;
  private length = 0;
  private readonly capacity: number;

  constructor(private readonly maxBytes: number) {
    this.capacity = maxBytes + 4;
    this.buffer = Buffer.allocUnsafeSlow(Math.min(4096, this.capacity));
  }

  /** Whether the bytes are still within the budget. */
  write(piece: string): boolean {
    const needed = this.length + piece.length * 3;
    if (needed > this.buffer.length && this.buffer.length < this.capacity) {
      const grown = Buffer.allocUnsafeSlow(Math.min(Math.max(needed, this.buffer.length * 2), this.capacity));
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
    }
    this.length += this.buffer.write(piece, this.length, 'utf8');
    return this.length <= this.maxBytes;
  }

  /** A copy of exactly the bytes written. */
  bytes(): Buffer {
    return Buffer.from(this.buffer.subarray(0, this.length));
  }
}
