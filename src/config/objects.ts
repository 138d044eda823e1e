import { invalidSpc } from '../errors.js';
import { jmesPathSyntaxError } from './jmes.js';
import { checkFilePath, checkUniquePaths, translatePath, type PathTranslation, type PlannedFile } from './paths.js';
import { arnRegion, looksLikeArn, withRegion, type Arn } from './arn.js';
import { describeYaml, optionalString, parseFileMode, readFields, requiredString, type Fields } from './fields.js';
import { parseFailoverObject } from './failover.js';
import { parseEncoding } from './encoding.js';
import { parseAllowEmpty, parseJsonKeys, parseTags, parseWildcard } from './wildcard.js';
import { checkArnRegion, checkedArn, checkSsmSelector } from './refs.js';
import {
  describeObject,
  type JmesPathEntry,
  type MountConfig,
  type ObjectRef,
  type ObjectSpec,
  type ObjectType,
  type Wildcard,
} from './types.js';
import { isYamlMap, parseYamlTree, type YamlValue } from './yamlTree.js';
import { showDeceptiveCharacters } from '../visibleText.js';

/** What the object rules need from the rest of the request. */
export interface ObjectsContext {
  /** The `region` parameter; absent when the region is resolved later (then see checkArnRegions). */
  region?: string;
  failoverRegion?: string;
  translation: PathTranslation;
  /** The request's permission: the mode of a file without its own filePermission. */
  defaultMode: number;
}

const OBJECT_KEYS = [
  'objectName',
  'objectType',
  'objectAlias',
  'objectVersion',
  'objectVersionLabel',
  'filePermission',
  'jmesPath',
  'failoverObject',
  'objectEncoding',
  'jsonKeys',
  'allowEmpty',
  'tags',
] as const;
type ObjectKey = (typeof OBJECT_KEYS)[number];

const JMES_KEYS = ['path', 'objectAlias', 'filePermission', 'objectEncoding'] as const;
const OBJECT_TYPES: readonly ObjectType[] = ['secretsmanager', 'ssmparameter'];

export interface ParsedObjects {
  objects: ObjectSpec[];
  /** Things worth a log line but not a failed mount (objectTypes assumed); one per kind, not per object. */
  warnings: string[];
}

/** Parses and validates the `objects` parameter: every rule that needs no I/O, all before any fetch. */
export function parseObjects(source: string, ctx: ObjectsContext): ParsedObjects {
  const tree = parseYamlTree(source, 'objects');
  if (!Array.isArray(tree)) {
    throw invalidSpc(
      `objects must be a YAML list of maps (each object starts with "- objectName: …"), got ${describeYaml(tree)}.`,
    );
  }
  if (tree.length === 0) throw invalidSpc('objects lists no object. Add at least one "- objectName: …" entry.');
  const untyped: string[] = [];
  const objects = tree.map((entry, index) => parseObject(entry, index, ctx, untyped));
  checkUniquePaths(objects.flatMap(plannedFiles));
  return { objects, warnings: untyped.length > 0 ? [untypedWarning(untyped)] : [] };
}

/** Objects named in the one warning about assumed types; a list of 2,000 made 2,000 log lines per Mount. */
const NAMED_UNTYPED = 3;

/**
 * ASCP requires objectType for a plain name, but the user guide's own failover example omits it, so secretsmanager
 * is assumed, and said so in one warning per Mount however many objects lack it.
 */
function untypedWarning(untyped: readonly string[]): string {
  const named = untyped.slice(0, NAMED_UNTYPED).join(', ');
  const more = untyped.length > NAMED_UNTYPED ? ` and ${untyped.length - NAMED_UNTYPED} more` : '';
  const which =
    untyped.length === 1
      ? `${named}: no objectType and objectName is not an ARN`
      : `${untyped.length} objects have no objectType and an objectName that is not an ARN (${named}${more})`;
  return showDeceptiveCharacters(
    `${which}; assuming secretsmanager. Set objectType (secretsmanager or ssmparameter) to be explicit; ASCP requires it.`,
  );
}

function parseObject(entry: YamlValue, index: number, ctx: ObjectsContext, untyped: string[]): ObjectSpec {
  const fields = readFields(entry, OBJECT_KEYS, describeEntry(entry, index), 'objectName: …, objectType: …');
  const objectName = requiredString(fields.objectName, 'objectName', `objects[${index}]`, 'Name the secret or parameter.');
  const where = describeObject({ index, primary: { objectName } });
  const { objectType, arn } = resolveType(objectName, fields.objectType, where, untyped);
  const found = parseWildcard(objectName, objectType, where, ctx.translation);
  if (arn && ctx.region !== undefined) checkArnRegion(where, 'objectName', arn.region, ctx.region, 'region');
  const primary = parseRef(fields, objectName, objectType, where);
  const objectAlias = optionalString(fields.objectAlias, 'objectAlias', where);
  const mode = parseFileMode(fields.filePermission, where) ?? ctx.defaultMode;
  const fileName = translatePath(objectAlias ?? found?.name ?? objectName, ctx.translation);
  checkFilePath({ path: fileName, owner: where }, objectAlias === undefined ? 'objectName' : 'objectAlias');
  const failover = fields.failoverObject
    ? parseFailoverObject(fields.failoverObject, { where, primary, objectType, objectAlias, ...ctx })
    : replicaFailover(primary, arn, ctx.failoverRegion);
  const jmesPath = parseJmesPath(fields.jmesPath, where, mode, ctx.translation);
  const encoding = parseEncoding(fields.objectEncoding, where);
  return {
    index,
    objectType,
    primary,
    ...(failover && { failover }),
    fileName,
    mode,
    jmesPath,
    ...(encoding && { encoding }),
    ...parseDirectory(fields, found?.wildcard, where, ctx.translation, objectType),
  };
}

/**
 * The wildcard or `jsonKeys: all` of an entry, whose files are known only once fetched. A wildcard's matches are
 * current versions of whole values, so it takes no version, label, failoverObject, jmesPath or jsonKeys.
 */
function parseDirectory(
  fields: Fields<ObjectKey>,
  wildcard: Omit<Wildcard, 'allowEmpty'> | undefined,
  where: string,
  translation: PathTranslation,
  objectType: ObjectType,
): Pick<ObjectSpec, 'wildcard' | 'jsonKeys'> {
  const jsonKeys = parseJsonKeys(fields.jsonKeys, where);
  const allowEmpty = parseAllowEmpty(fields.allowEmpty, where);
  const tags = parseTags(fields.tags, where, wildcard, objectType);
  if (wildcard === undefined) {
    if (allowEmpty !== undefined) {
      throw invalidSpc(`${where}: allowEmpty applies to a wildcard objectName (e.g. /app/prod/*) only. Remove allowEmpty.`);
    }
    return jsonKeys ? { jsonKeys: { translation } } : {};
  }
  const refused = (['objectVersion', 'objectVersionLabel', 'failoverObject', 'jmesPath', 'jsonKeys'] as const).find(
    (key) => fields[key] !== undefined && fields[key] !== null && fields[key] !== '',
  );
  if (refused !== undefined) {
    throw invalidSpc(
      `${where}: ${refused} cannot be used with a wildcard objectName, which mounts the current value of every ` +
        `match. Remove ${refused}, or list the objects by name.`,
    );
  }
  return { wildcard: { ...wildcard, allowEmpty: allowEmpty ?? false, ...(tags && { tags }) } };
}

/** `objects[2] "MySecret"` when the entry has a usable objectName, so even a key error names the object. */
function describeEntry(entry: YamlValue, index: number): string {
  if (!isYamlMap(entry)) return `objects[${index}]`;
  const name = [...entry].find(([key]) => key.toLowerCase() === 'objectname')?.[1];
  return typeof name === 'string' && name !== '' ? describeObject({ index, primary: { objectName: name } }) : `objects[${index}]`;
}

/**
 * The type from `objectType`, else from the ARN, else Secrets Manager (the object is added to `untyped` for the
 * warning). An ARN and an explicit type must agree.
 */
function resolveType(
  objectName: string,
  typeField: YamlValue | undefined,
  where: string,
  untyped: string[],
): { objectType: ObjectType; arn?: Arn } {
  const fromArn = looksLikeArn(objectName) ? checkedArn(objectName, where, 'objectName') : undefined;
  const written = optionalString(typeField, 'objectType', where);
  if (written === undefined) {
    if (fromArn) return fromArn;
    untyped.push(where);
    return { objectType: 'secretsmanager' };
  }
  // ASCP takes the type only in lower case; any case is accepted here since the meaning is not in doubt.
  const objectType = OBJECT_TYPES.find((type) => type === written.toLowerCase());
  if (objectType === undefined) {
    throw invalidSpc(`${where}: objectType "${written}" is not a type. Use secretsmanager or ssmparameter.`);
  }
  if (fromArn && fromArn.objectType !== objectType) {
    throw invalidSpc(
      `${where}: objectType is ${objectType} but objectName is a ${fromArn.objectType} ARN. ` +
        'Remove objectType or fix the ARN.',
    );
  }
  return { objectType, ...(fromArn && { arn: fromArn.arn }) };
}

/** The primary's name, version and label; Parameter Store allows a version or a label, not both. */
function parseRef(fields: Fields<ObjectKey>, objectName: string, type: ObjectType, where: string): ObjectRef {
  const objectVersion = optionalString(fields.objectVersion, 'objectVersion', where);
  const objectVersionLabel = optionalString(fields.objectVersionLabel, 'objectVersionLabel', where);
  const ref = {
    objectName,
    ...(objectVersion !== undefined && { objectVersion }),
    ...(objectVersionLabel !== undefined && { objectVersionLabel }),
  };
  checkSsmSelector(ref, type, where);
  return ref;
}

/** Without a failoverObject, the failover region serves a replica: the same name, or the ARN in that region. */
function replicaFailover(primary: ObjectRef, arn: Arn | undefined, failoverRegion?: string): ObjectRef | undefined {
  if (failoverRegion === undefined) return undefined;
  return { ...primary, objectName: arn ? withRegion(arn, failoverRegion) : primary.objectName };
}

function parseJmesPath(value: YamlValue | undefined, where: string, mode: number, translation: PathTranslation) {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) {
    throw invalidSpc(`${where}: jmesPath must be a list of {path, objectAlias} maps, got ${describeYaml(value)}.`);
  }
  return value.map((entry, i) => parseJmesEntry(entry, `${where} jmesPath[${i}]`, mode, translation));
}

function parseJmesEntry(entry: YamlValue, where: string, parentMode: number, translation: PathTranslation) {
  const fields = readFields(entry, JMES_KEYS, where, 'path: …, objectAlias: …');
  const path = requiredString(fields.path, 'path', where, 'Give the JMESPath expression to extract, e.g. path: username.');
  const objectAlias = requiredString(fields.objectAlias, 'objectAlias', where, 'Give the file name to write.');
  const syntaxError = jmesPathSyntaxError(path);
  if (syntaxError !== undefined) {
    throw invalidSpc(`${where}: path "${path}" is not a valid JMESPath expression (${syntaxError}). Fix the path.`);
  }
  // ASCP translates a jmesPath alias like any other file name, so `a/b` becomes `a_b` by default here too.
  const fileName = translatePath(objectAlias, translation);
  checkFilePath({ path: fileName, owner: `${where} (objectAlias "${objectAlias}")` }, 'objectAlias');
  // A jmesPath file is a piece of its object: it takes the object's mode unless it sets its own.
  const mode = parseFileMode(fields.filePermission, where) ?? parentMode;
  const encoding = parseEncoding(fields.objectEncoding, where);
  return { path, objectAlias, fileName, mode, ...(encoding && { encoding }) } satisfies JmesPathEntry;
}

function plannedFiles(spec: ObjectSpec): PlannedFile[] {
  const owner = describeObject(spec);
  const directory = spec.wildcard !== undefined || spec.jsonKeys !== undefined;
  return [
    { path: spec.fileName, owner, ...(directory && { directory }) },
    ...spec.jmesPath.map((entry, i) => ({
      path: entry.fileName,
      owner: `${owner} jmesPath[${i}] (objectAlias "${entry.objectAlias}")`,
    })),
  ];
}

/**
 * ARN regions against the region the mount resolved (parameter, AWS_REGION or the node's label). The parse
 * checks them already when the `region` parameter is set; the pipeline calls this once the region is known
 * in every case. Failover ARNs need no check here: failoverRegion is always a parameter, so the parse did.
 */
export function checkArnRegions(config: Pick<MountConfig, 'objects'>, region: string): void {
  for (const spec of config.objects) {
    const primaryRegion = arnRegion(spec.primary.objectName);
    if (primaryRegion !== undefined) checkArnRegion(describeObject(spec), 'objectName', primaryRegion, region, 'region');
  }
}
