import { describeObject, type JmesPathEntry, type ObjectSpec } from '../config/types.js';
import type { ErrorCode } from '../errors.js';
import { budgetedJson, type JsonBudgets } from './budgetedJson.js';
import { searchJmesPath } from '../config/jmes.js';
import { decodeText, encodingName } from './decode.js';

/**
 * Cuts an object's jmesPath files out of its value. It runs in the jmesPath worker (jmespathWorker.ts), which loads
 * no gRPC: a refusal is the code and message of the ProviderError the Mount fails with, made on the main thread.
 */
export type ObjectToExtract = Pick<ObjectSpec, 'index' | 'primary' | 'jmesPath'>;

export interface Refusal {
  /**
   * InvalidObjectValue: the value does not fit the SPC (not JSON, a path finds nothing), the user fixes either.
   * InvalidSecretProviderClass: the path asks for more than a file may hold, whatever the value.
   */
  code: Extract<ErrorCode, 'InvalidObjectValue' | 'InvalidSecretProviderClass'>;
  /** Never any part of the value: a JSON parser's message quotes the text it choked on, so none is kept. */
  message: string;
}

/** Each jmesPath entry's file contents, in order, or why the object cannot have them. */
export type Extraction = { files: Buffer[] } | { refused: Refusal };

/** How messages name one entry: `objects[1] "db" jmesPath[0] path "username" (objectAlias "user")`. */
export function describeJmesPath(spec: ObjectToExtract, i: number): string {
  const entry = spec.jmesPath[i];
  return `${describeObject(spec)} jmesPath[${i}] path "${entry?.path}" (objectAlias "${entry?.objectAlias}")`;
}

/** An object without jmesPath yields no file; `beforeEntry` is told which entry is about to be evaluated. */
export function extractJmesPath(
  spec: ObjectToExtract,
  value: Uint8Array | string,
  budgets: JsonBudgets,
  beforeEntry: (i: number) => void = () => {},
): Extraction {
  if (spec.jmesPath.length === 0) return { files: [] };
  const document = parseJson(value);
  if (document === NOT_JSON_VALUE) {
    return invalidValue(
      `${describeObject(spec)}: its value is not JSON, so its jmesPath entries cannot be extracted. ` +
        'Store the value as a JSON object, or remove jmesPath.',
    );
  }
  const files: Buffer[] = [];
  for (const [i, entry] of spec.jmesPath.entries()) {
    beforeEntry(i);
    const file = evaluate(spec, document, entry, i, budgets);
    if ('refused' in file) return file;
    files.push(file.contents);
  }
  return { files };
}

/** What parseJson returns for a value that is not JSON (a parser's message quotes the text, so none is kept). */
export const NOT_JSON_VALUE = Symbol('not JSON');

export function parseJson(value: Uint8Array | string): unknown {
  try {
    // As a Buffer reads it (a BOM stays, and is not JSON), wherever the bytes were copied to.
    return JSON.parse(typeof value === 'string' ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8'));
  } catch {
    return NOT_JSON_VALUE;
  }
}

function invalidValue(message: string): { refused: Refusal } {
  return { refused: { code: 'InvalidObjectValue', message } };
}

function evaluate(
  spec: ObjectToExtract,
  document: unknown,
  entry: JmesPathEntry,
  i: number,
  budgets: JsonBudgets,
): { contents: Buffer } | { refused: Refusal } {
  const where = describeJmesPath(spec, i);
  let result: unknown;
  try {
    result = searchJmesPath(document, entry.path);
  } catch (err) {
    // A string or array grown past what JavaScript holds, or a recursion past its stack: the path's doing.
    if (err instanceof RangeError) return tooLarge(`${where} outgrew what an evaluation can hold (RangeError: ${err.message.slice(0, 100)}).`);
    return invalidValue(`${where} failed on the value: ${safeReason(err)}. Fix the path or the value's shape.`);
  }
  if (result === null || result === undefined) {
    return invalidValue(`${where} found nothing in the value. Check the key names (they are case-sensitive).`);
  }
  if (entry.encoding !== undefined) return decoded(where, result, entry.encoding);
  // A string is the file as is; ASCP rejects other types, we write their JSON text (numbers, booleans, objects).
  const written = budgetedJson(result, budgets);
  if ('over' in written) return tooLarge(`${where}: its result holds ${overBudget(written)}, the limit of one jmesPath file.`);
  if (written.inexactNumber) {
    return invalidValue(
      `${where} selects a number too large to write exactly (JSON numbers beyond 2^53). Store it as a JSON string.`,
    );
  }
  return { contents: written.bytes };
}

/** objectEncoding of a jmesPath entry: the string it selects, decoded. */
function decoded(where: string, result: unknown, encoding: 'base64' | 'hex'): { contents: Buffer } | { refused: Refusal } {
  const bytes = typeof result === 'string' ? decodeText(result, encoding) : undefined;
  if (bytes !== undefined) return { contents: bytes };
  const found = typeof result === 'string' ? `a string that is not ${encodingName(encoding)}` : `a JSON ${jsonType(result)}, not a string`;
  return invalidValue(
    `${where} selects ${found}, so objectEncoding ${encoding} cannot decode it. Store the key's value ` +
      `${encoding}-encoded, or remove objectEncoding from the entry.`,
  );
}

/** The JSON type of a parsed value, for messages that must not show the value itself. */
export function jsonType(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  return value === null ? 'null' : typeof value === 'object' ? 'object' : typeof value;
}

/** Which budget a text went past, with its number. */
export function overBudget({ over, limit }: { over: 'maxValues' | 'maxBytes'; limit: number }): string {
  return over === 'maxValues' ? `more than ${limit} JSON values` : `more than ${limit} bytes`;
}

/** How a path makes its result or its work grow without bound, and what to do instead. */
export const GROWTH_HINT =
  'A path that repeats its input (such as [@,@], or [@,@][]) doubles its work at each step; select only the keys ' +
  'the file needs.';

/** The path asks for more than a file may hold or an evaluation may do, whatever the value. */
function tooLarge(message: string): { refused: Refusal } {
  return { refused: { code: 'InvalidSecretProviderClass', message: `${message} ${GROWTH_HINT}` } };
}

/**
 * The library's runtime errors name functions and JSON types, never data; anything else (a bug of the library,
 * say) is reduced to a generic reason, in case it quotes the value.
 */
function safeReason(err: unknown): string {
  const message = err instanceof Error ? err.message : '';
  return /^(TypeError|ArgumentError|Unknown function|Invalid slice)/.test(message)
    ? message.slice(0, 200)
    : 'the expression could not be evaluated on this value';
}
