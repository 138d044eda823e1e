/**
 * Objects whose files are known only once fetched: a wildcard's matches and a JSON value's keys (`jsonKeys: all`),
 * each a file in the directory the entry's file name names. Values are decoded here first (`objectEncoding`), so
 * that jmesPath, jsonKeys and the files all see the bytes the object means. Every refusal names the object and the
 * key or name, never a value.
 */
import { translatePath, unsafePathReason } from '../config/paths.js';
import { describeObject, type ObjectSpec } from '../config/types.js';
import { ProviderError } from '../errors.js';
import { budgetedJson, type JsonBudgets } from './budgetedJson.js';
import { decodeText, encodingName } from './decode.js';
import { jsonType, NOT_JSON_VALUE, overBudget, parseJson } from './extract.js';

/** One file of an object's directory: its name below the directory, not yet translated. */
export interface Member {
  name: string;
  value: Buffer;
  version: string;
  binary?: boolean;
}

export interface PreparedObject {
  spec: ObjectSpec;
  value: Buffer;
  version: string;
  binary?: boolean;
  members?: Member[];
}

export interface MemberLimits {
  /** Files one entry may write (--max-files-per-entry). */
  maxFiles: number;
  /** What one key's file may hold, as a jmesPath file. */
  budgets: JsonBudgets;
}

/** Each object decoded, and a jsonKeys object's keys as its members. */
export function prepareObjects<T extends PreparedObject>(objects: readonly T[], limits: MemberLimits): T[] {
  return objects.map((object) => {
    const value = decoded(object.spec, object);
    const members = object.members?.map((member) => ({ ...member, value: decoded(object.spec, member, member.name) }));
    if (object.spec.jsonKeys !== undefined) return { ...object, value, members: keysOf(object.spec, value, object.version, limits) };
    return { ...object, value, ...(members && { members }) };
  });
}

function invalidValue(message: string): ProviderError {
  return new ProviderError('InvalidObjectValue', message);
}

/** A name or key as messages quote it. */
function quoted(name: string): string {
  return JSON.stringify(name);
}

/** The value as objectEncoding says to write it; a binary secret is raw bytes already. */
function decoded(spec: ObjectSpec, value: { value: Buffer; binary?: boolean }, member?: string): Buffer {
  if (spec.encoding === undefined || value.binary === true) return value.value;
  const bytes = decodeText(value.value, spec.encoding);
  if (bytes !== undefined) return bytes;
  const whose = member === undefined ? 'its value' : `the value of ${quoted(member)}`;
  throw invalidValue(
    `${describeObject(spec)}: ${whose} is not ${encodingName(spec.encoding)} text, so objectEncoding ` +
      `${spec.encoding} cannot decode it. Store the value ${spec.encoding}-encoded, or remove objectEncoding.`,
  );
}

/** `jsonKeys: all`: one member per top-level key; a string is its file as is, any other value its JSON text. */
function keysOf(spec: ObjectSpec, value: Buffer, version: string, limits: MemberLimits): Member[] {
  const where = describeObject(spec);
  const document = parseJson(value);
  if (document === NOT_JSON_VALUE || typeof document !== 'object' || document === null || Array.isArray(document)) {
    const found = document === NOT_JSON_VALUE ? 'not JSON' : `a JSON ${jsonType(document)}`;
    throw invalidValue(`${where}: its value is ${found}, not a JSON object, so jsonKeys has no keys to write. Store a JSON object, or remove jsonKeys.`);
  }
  const keys = Object.keys(document);
  if (keys.length === 0) {
    throw invalidValue(`${where}: its JSON object has no keys, so jsonKeys would write no file. Add a key, or remove jsonKeys.`);
  }
  if (keys.length > limits.maxFiles) {
    throw new ProviderError(
      'InvalidSecretProviderClass',
      `${where}: its JSON object has ${keys.length} keys, more than the ${limits.maxFiles} files one objects entry may ` +
        'write (--max-files-per-entry). Pick keys with jmesPath, or raise the flag.',
    );
  }
  return keys.map((key) => {
    const written = budgetedJson((document as Record<string, unknown>)[key], limits.budgets);
    if ('over' in written) throw invalidValue(`${where}: the value of key ${quoted(key)} holds ${overBudget(written)}, the limit of one file.`);
    if (written.inexactNumber) {
      throw invalidValue(`${where}: key ${quoted(key)} holds a number too large to write exactly (beyond 2^53). Store it as a JSON string.`);
    }
    return { name: key, value: written.bytes, version };
  });
}

export interface MemberFile {
  path: string;
  member: Member;
}

/**
 * The files of an object's members in its directory: each name translated as any file name, safe, and the only one
 * at its path (two keys `a/b` and `a_b` are one file with the default translation).
 */
export function memberFiles(spec: ObjectSpec, members: readonly Member[]): MemberFile[] {
  const translation = spec.wildcard?.translation ?? spec.jsonKeys?.translation ?? '_';
  const what = spec.jsonKeys ? 'key' : 'name';
  const where = describeObject(spec);
  const byName = new Map<string, Member>();
  const files = members.map((member) => {
    const name = translatePath(member.name, translation);
    const reason = unsafePathReason(name) ?? unsafePathReason(`${spec.fileName}/${name}`);
    if (reason !== undefined) {
      throw invalidValue(
        `${where}: ${what} ${quoted(member.name)} is not a safe file name (as "${name}"): ${reason}. Rename it in AWS` +
          `${spec.jsonKeys ? ', or pick the other keys with jmesPath' : ''}.`,
      );
    }
    const other = byName.get(name);
    if (other !== undefined) {
      throw invalidValue(
        `${where}: ${what}s ${quoted(other.name)} and ${quoted(member.name)} both become file "${name}" ` +
          '(pathTranslation turns "/" into its character). Rename one in AWS, or set another pathTranslation.',
      );
    }
    byName.set(name, member);
    return { path: `${spec.fileName}/${name}`, member, name };
  });
  for (const { name, member } of files) {
    const elements = name.split('/');
    for (let end = 1; end < elements.length; end++) {
      const file = byName.get(elements.slice(0, end).join('/'));
      if (file !== undefined) {
        throw invalidValue(
          `${where}: ${what} ${quoted(file.name)} is a file where ${what} ${quoted(member.name)} needs a directory ` +
            '(pathTranslation is False). Rename one in AWS, or set a pathTranslation character.',
        );
      }
    }
  }
  return files.map(({ path, member }) => ({ path, member }));
}
