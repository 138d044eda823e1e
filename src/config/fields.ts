import { invalidSpc } from '../errors.js';
import { closestName } from './similar.js';
import { isYamlMap, type YamlValue } from './yamlTree.js';

/** A map entry of the `objects` YAML with its keys resolved to their canonical spelling. */
export type Fields<K extends string> = Partial<Record<K, YamlValue>>;

/** Says what a YAML value is, for "must be X, got Y" messages; a long string is cut short. */
export function describeYaml(value: YamlValue | undefined): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (isYamlMap(value)) return 'a map';
  const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  return `the string "${shown}"`;
}

/**
 * Reads a map whose keys are matched case-insensitively (ASCP does, and real SPCs write `Path:` and
 * `ObjectAlias:`). Unlike ASCP, an unknown key is an error: a misspelt `objectAlias` silently ignored writes
 * the file under another name, which the user finds out only when the pod cannot read it.
 */
export function readFields<K extends string>(
  value: YamlValue | undefined,
  allowed: readonly K[],
  where: string,
  shape: string,
): Fields<K> {
  if (!isYamlMap(value)) throw invalidSpc(`${where} must be a map (${shape}), got ${describeYaml(value)}.`);
  const fields: Fields<K> = {};
  const spelling = new Map<K, string>();
  for (const [key, fieldValue] of value) {
    const canonical = allowed.find((name) => name.toLowerCase() === key.toLowerCase());
    if (canonical === undefined) throw unknownKey(key, allowed, where);
    const earlier = spelling.get(canonical);
    if (earlier !== undefined) {
      throw invalidSpc(`${where}: keys "${earlier}" and "${key}" both set ${canonical} (keys ignore case). Keep one.`);
    }
    spelling.set(canonical, key);
    fields[canonical] = fieldValue;
  }
  return fields;
}

function unknownKey(key: string, allowed: readonly string[], where: string): Error {
  const guess = closestName(key, allowed);
  const hint = guess === undefined ? '' : ` Did you mean "${guess}"?`;
  return invalidSpc(
    `${where}: unknown key "${key}".${hint} Allowed keys: ${allowed.join(', ')} (case-insensitive).`,
  );
}

/**
 * A field that must be a string if present. Null and the empty string mean "not set", as in ASCP, where an
 * empty `objectAlias: ""` is the same as no alias.
 */
export function optionalString(value: YamlValue | undefined, field: string, where: string): string | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  if (typeof value === 'string') return value;
  throw invalidSpc(`${where}: ${field} must be a string, got ${describeYaml(value)}.`);
}

export function requiredString(value: YamlValue | undefined, field: string, where: string, fix: string): string {
  const text = optionalString(value, field, where);
  if (text === undefined) throw invalidSpc(`${where}: ${field} is required and must be a non-empty string. ${fix}`);
  return text;
}

/** `filePermission`: exactly four octal digits, quoted or not ("0600"), at most 0777 — the modes the driver takes. */
export function parseFileMode(value: YamlValue | undefined, where: string): number | undefined {
  const text = optionalString(value, 'filePermission', where);
  if (text === undefined) return undefined;
  if (!/^0[0-7]{3}$/.test(text)) {
    throw invalidSpc(
      `${where}: filePermission "${text}" is not a file mode. Write four octal digits from "0000" to "0777", e.g. "0600".`,
    );
  }
  return Number.parseInt(text, 8);
}
