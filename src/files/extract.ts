import { status } from '@grpc/grpc-js';
import { describeObject, type JmesPathEntry, type ObjectSpec } from '../config/types.js';
import { ProviderError } from '../errors.js';
import { searchJmesPath } from './jmes.js';

export interface ExtractedFile {
  entry: JmesPathEntry;
  contents: Buffer;
}

/**
 * The value is fine but does not fit the SPC (not JSON, a path finds nothing): the user fixes the secret or
 * the SecretProviderClass, so the status is INVALID_ARGUMENT. Messages never hold any part of the value, and
 * no cause is attached, because a JSON parser's message quotes the text it choked on.
 */
function invalidValue(message: string): ProviderError {
  return new ProviderError(status.INVALID_ARGUMENT, 'InvalidObjectValue', message);
}

/** Cuts each jmesPath entry's file out of an object's value. An object without jmesPath yields nothing. */
export function extractJmesPath(
  spec: Pick<ObjectSpec, 'index' | 'primary' | 'jmesPath'>,
  value: Buffer | string,
): ExtractedFile[] {
  if (spec.jmesPath.length === 0) return [];
  const document = parseJson(spec, value);
  return spec.jmesPath.map((entry, i) => ({ entry, contents: evaluate(spec, document, entry, i) }));
}

function parseJson(spec: Pick<ObjectSpec, 'index' | 'primary'>, value: Buffer | string): unknown {
  try {
    return JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch {
    throw invalidValue(
      `${describeObject(spec)}: its value is not JSON, so its jmesPath entries cannot be extracted. ` +
        'Store the value as a JSON object, or remove jmesPath.',
    );
  }
}

function evaluate(
  spec: Pick<ObjectSpec, 'index' | 'primary'>,
  document: unknown,
  entry: JmesPathEntry,
  i: number,
): Buffer {
  const where = `${describeObject(spec)} jmesPath[${i}] path "${entry.path}" (objectAlias "${entry.objectAlias}")`;
  let result: unknown;
  try {
    result = searchJmesPath(document, entry.path);
  } catch (err) {
    throw invalidValue(`${where} failed on the value: ${safeReason(err)}. Fix the path or the value's shape.`);
  }
  if (result === null || result === undefined) {
    throw invalidValue(`${where} found nothing in the value. Check the key names (they are case-sensitive).`);
  }
  if (hasInexactNumber(result)) {
    throw invalidValue(
      `${where} selects a number too large to write exactly (JSON numbers beyond 2^53). Store it as a JSON string.`,
    );
  }
  // A string is the file as is; ASCP rejects other types, we write their JSON text (numbers, booleans, objects).
  return Buffer.from(typeof result === 'string' ? result : JSON.stringify(result), 'utf8');
}

/**
 * The library's runtime errors name functions and JSON types, never data; anything else (a bug of the
 * library, say) is reduced to a generic reason, in case it quotes the value.
 */
function safeReason(err: unknown): string {
  const message = err instanceof Error ? err.message : '';
  return /^(TypeError|ArgumentError|Unknown function|Invalid slice)/.test(message)
    ? message.slice(0, 200)
    : 'the expression could not be evaluated on this value';
}

/** JSON.parse rounds integers beyond 2^53; writing the rounded number would silently change the value. */
function hasInexactNumber(value: unknown): boolean {
  if (typeof value === 'number') return Number.isInteger(value) && !Number.isSafeInteger(value);
  if (Array.isArray(value)) return value.some(hasInexactNumber);
  if (typeof value === 'object' && value !== null) return Object.values(value).some(hasInexactNumber);
  return false;
}
