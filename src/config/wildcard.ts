import { invalidSpc } from '../errors.js';
import { describeYaml, optionalString } from './fields.js';
import { isYamlMap } from './yamlTree.js';
import { looksLikeArn } from './arn.js';
import type { PathTranslation } from './paths.js';
import type { ObjectType, Wildcard } from './types.js';
import type { YamlValue } from './yamlTree.js';

const MAX_TAGS = 10;

const WILDCARD_HELP =
  'A wildcard is a trailing * (names one level below) or ** (names at any depth), e.g. /app/prod/* for SSM ' +
  'parameters or prod/app/* for secrets.';

/**
 * A wildcard objectName (`/app/prod/*`, `prod/app/**`), or undefined for a plain name. Neither service allows `*` in
 * a name, so no SecretProviderClass that worked before means anything else now. `name` is what the directory of the
 * matches is called when no objectAlias is set: the name without its wildcard.
 */
export function parseWildcard(
  objectName: string,
  objectType: ObjectType,
  where: string,
  translation: PathTranslation,
): { wildcard: Omit<Wildcard, 'allowEmpty'>; name: string } | undefined {
  if (!objectName.includes('*')) return undefined;
  const match = /^([^*]*)(\*\*?)$/.exec(objectName);
  if (match === null) throw invalidSpc(`${where}: objectName has a "*" that does not end it. ${WILDCARD_HELP}`);
  const before = match[1]!;
  const recursive = match[2] === '**';
  if (looksLikeArn(objectName)) {
    throw invalidSpc(`${where}: a wildcard objectName takes a name, not an ARN. Write the name, e.g. prod/app/*, with objectType.`);
  }
  if (objectType === 'ssmparameter') {
    if (!before.startsWith('/') || !before.endsWith('/')) {
      throw invalidSpc(
        `${where}: a parameter wildcard follows a path that starts and ends with "/" (GetParametersByPath takes a ` +
          `path), e.g. /app/prod/* or /app/prod/**. ${WILDCARD_HELP}`,
      );
    }
    return { wildcard: { prefix: before, recursive, translation }, name: before.replace(/\/+$/, '') };
  }
  return { wildcard: { prefix: before, recursive, translation }, name: before.replace(/\/+$/, '') };
}

/** `allowEmpty` of a wildcard entry: true or false in any case (the YAML tree keeps scalars as text). */
export function parseAllowEmpty(value: YamlValue | undefined, where: string): boolean | undefined {
  const text = optionalString(value, 'allowEmpty', where);
  if (text === undefined) return undefined;
  if (text.toLowerCase() === 'true') return true;
  if (text.toLowerCase() === 'false') return false;
  throw invalidSpc(`${where}: allowEmpty must be true or false, got ${describeYaml(text)}.`);
}

/** `jsonKeys: all` (any case), the only value: one file per top-level key. */
export function parseJsonKeys(value: YamlValue | undefined, where: string): boolean {
  const text = optionalString(value, 'jsonKeys', where);
  if (text === undefined) return false;
  if (text.toLowerCase() === 'all') return true;
  throw invalidSpc(
    `${where}: jsonKeys "${text}" is not a choice. Write jsonKeys: all to write one file per top-level key of the ` +
      'JSON value, or use jmesPath to pick keys.',
  );
}

/**
 * `tags` of a secret wildcard: a map of tag keys to values, each of which a match must carry exactly. Only a wildcard
 * of secrets takes it; a bare `*` needs it (every secret of the account is not a sensible mount).
 */
export function parseTags(
  value: YamlValue | undefined,
  where: string,
  wildcard: Pick<Wildcard, 'prefix'> | undefined,
  objectType: ObjectType,
): Wildcard['tags'] {
  if (value === undefined || value === null) {
    if (wildcard !== undefined && objectType === 'secretsmanager' && wildcard.prefix === '') {
      throw invalidSpc(`${where}: a secret wildcard needs a name prefix before the "*" (e.g. prod/app/*) or tags, not every secret.`);
    }
    return undefined;
  }
  if (wildcard === undefined || objectType !== 'secretsmanager') {
    throw invalidSpc(`${where}: tags apply to a secret wildcard only (objectName: prod/* or *, objectType: secretsmanager). Remove tags.`);
  }
  if (!isYamlMap(value) || value.size === 0) {
    throw invalidSpc(`${where}: tags must be a map of tag keys to values (e.g. tags: {team: payments}), got ${describeYaml(value)}.`);
  }
  // ListSecrets takes at most 10 values per filter.
  if (value.size > MAX_TAGS) throw invalidSpc(`${where}: tags names ${value.size} tags, more than the ${MAX_TAGS} a wildcard may require.`);
  return [...value].map(([key, tagValue]) => {
    if (key === '' || typeof tagValue !== 'string') {
      throw invalidSpc(`${where}: tags "${key}" must be a tag key with a string value, got ${describeYaml(tagValue)}.`);
    }
    return { key, value: tagValue };
  });
}
