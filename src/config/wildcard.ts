import { invalidSpc } from '../errors.js';
import { describeYaml, optionalString } from './fields.js';
import { looksLikeArn } from './arn.js';
import type { PathTranslation } from './paths.js';
import type { ObjectType, Wildcard } from './types.js';
import type { YamlValue } from './yamlTree.js';

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
  if (before === '') {
    throw invalidSpc(`${where}: a secret wildcard needs a name prefix before the "*" (e.g. prod/app/*), not every secret.`);
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
