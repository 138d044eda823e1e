import { invalidSpc } from '../errors.js';
import { looksLikeArn } from './arn.js';
import { optionalString, readFields, requiredString } from './fields.js';
import { checkArnRegion, checkedArn, checkSsmSelector } from './refs.js';
import type { ObjectRef, ObjectType } from './types.js';
import type { YamlValue } from './yamlTree.js';

const FAILOVER_KEYS = ['objectName', 'objectVersion', 'objectVersionLabel'] as const;

export interface FailoverContext {
  where: string;
  primary: ObjectRef;
  objectType: ObjectType;
  objectAlias: string | undefined;
  failoverRegion?: string;
}

/**
 * The `failoverObject` of an object: what to fetch from the failover region instead of the primary.
 * The user guide writes it as a list holding one map, so both a map and such a list are accepted.
 */
export function parseFailoverObject(value: YamlValue, ctx: FailoverContext): ObjectRef {
  const { where, primary, objectType } = ctx;
  const fields = readFields(single(value, where), FAILOVER_KEYS, `${where} failoverObject`, 'objectName: …');
  if (ctx.failoverRegion === undefined) {
    throw invalidSpc(`${where}: failoverObject needs the failoverRegion parameter. Set failoverRegion, or remove failoverObject.`);
  }
  if (ctx.objectAlias === undefined) {
    // Without an alias the file would be named after whichever object was fetched, so it would move on failover.
    throw invalidSpc(`${where}: an object with a failoverObject needs an objectAlias, so its file has one name. Add objectAlias.`);
  }
  const fieldWhere = `${where} failoverObject`;
  const objectName = requiredString(fields.objectName, 'objectName', fieldWhere, 'Name the object to fetch from the failover region.');
  if (looksLikeArn(objectName)) {
    const { arn, objectType: arnType } = checkedArn(objectName, fieldWhere, 'objectName');
    if (arnType !== objectType) {
      throw invalidSpc(`${fieldWhere}: objectName is a ${arnType} ARN but the object is a ${objectType}. Use an ARN of the same type.`);
    }
    checkArnRegion(fieldWhere, 'objectName', arn.region, ctx.failoverRegion, 'failoverRegion');
  }
  const objectVersion = optionalString(fields.objectVersion, 'objectVersion', fieldWhere);
  if (objectVersion !== undefined && objectVersion !== primary.objectVersion) {
    throw invalidSpc(
      `${fieldWhere}: objectVersion "${objectVersion}" differs from the object's objectVersion ` +
        `(${primary.objectVersion === undefined ? 'none' : `"${primary.objectVersion}"`}). ` +
        'The versions must match; remove it from failoverObject or make them equal.',
    );
  }
  // What the failover object leaves unset is taken from the primary, as ASCP does.
  const label = optionalString(fields.objectVersionLabel, 'objectVersionLabel', fieldWhere) ?? primary.objectVersionLabel;
  const ref: ObjectRef = {
    objectName,
    ...(primary.objectVersion !== undefined && { objectVersion: primary.objectVersion }),
    ...(label !== undefined && { objectVersionLabel: label }),
  };
  checkSsmSelector(ref, objectType, fieldWhere);
  return ref;
}

function single(value: YamlValue, where: string): YamlValue {
  if (!Array.isArray(value)) return value;
  if (value.length !== 1) {
    throw invalidSpc(`${where}: failoverObject must be one map (or a list holding exactly one), got a list of ${value.length}.`);
  }
  return value[0] ?? null;
}
