/** The typed, validated form of a Mount: everything the fetch stages need, decided before any I/O. */

import type { PathTranslation } from './paths.js';

export type ObjectType = 'secretsmanager' | 'ssmparameter';
export type AddressType = 'ipv4' | 'ipv6' | 'auto';

/** How a string value is encoded before it is written: `utf-8` (as is, the default), `base64` or `hex` (decoded). */
export type ObjectEncoding = 'utf-8' | 'base64' | 'hex';

/** One file cut out of a JSON value by a JMESPath expression. */
export interface JmesPathEntry {
  path: string;
  /** The file path, already translated and checked. */
  fileName: string;
  /** The alias as written, for messages. */
  objectAlias: string;
  mode: number;
  /** Set when the entry's `objectEncoding` is base64 or hex: the selected string is decoded. */
  encoding?: Exclude<ObjectEncoding, 'utf-8'>;
}

/**
 * A wildcard `objectName`: every SSM parameter below a path (`/app/prod/*`, GetParametersByPath), or every secret
 * whose name starts with a prefix (`prod/app/*`, BatchGetSecretValue with a name filter). Each match is one file in
 * the directory of the entry's file name, named by its name below the path or after the prefix.
 */
export interface Wildcard {
  /** What every match's name starts with: an SSM path with its trailing `/` (`/app/prod/`), or a secret name prefix. */
  prefix: string;
  /** `**`: matches at any depth; `*`: only names with no further `/` below the prefix. */
  recursive: boolean;
  /** `allowEmpty: true`: no match writes no file instead of failing the Mount. */
  allowEmpty: boolean;
  /** Secrets Manager `tags`: a match carries every one of these tags, key and value exactly. */
  tags?: { key: string; value: string }[];
  /** How a match's name below the prefix becomes its file name (the mount's pathTranslation). */
  translation: PathTranslation;
}

/** What to fetch from one region: the primary object, or its failover stand-in. */
export interface ObjectRef {
  /** Name or full ARN, exactly as AWS is asked for it. */
  objectName: string;
  objectVersion?: string;
  objectVersionLabel?: string;
}

export interface ObjectSpec {
  /** Position in the `objects` list; messages name it as objects[index]. */
  index: number;
  objectType: ObjectType;
  /** The primary object, fetched from `region`. */
  primary: ObjectRef;
  /**
   * What to fetch from the first failover region when the primary region is unhealthy: the `failoverObject`, else
   * the primary (an ARN's region rewritten to the failover region, as a replica's ARN is). Absent without failover.
   * A later failover region is asked for the same, an ARN rewritten to that region (see refInRegion).
   */
  failover?: ObjectRef;
  /** The file path of the whole value, already translated and checked (unique, relative, no `..`). */
  fileName: string;
  mode: number;
  jmesPath: JmesPathEntry[];
  /** Set when `objectEncoding` is base64 or hex: the value (or each wildcard match's) is decoded. */
  encoding?: Exclude<ObjectEncoding, 'utf-8'>;
  /** Set for a wildcard objectName: `fileName` is then the directory of the matches' files. */
  wildcard?: Wildcard;
  /** `jsonKeys: all`: every top-level key of the JSON value is a file in the directory `fileName`, its name translated. */
  jsonKeys?: { translation: PathTranslation };
}

export interface PodInfo {
  name: string;
  namespace: string;
  uid: string;
  serviceAccountName: string;
}

export interface ServiceAccountToken {
  token: string;
  expirationTimestamp?: string;
}

export interface MountConfig {
  pod: PodInfo;
  /** Tokens by audience, from the attributes or the node-publish secrets. */
  tokens: Record<string, ServiceAccountToken>;
  /** Explicit `region` parameter; absent means AWS_REGION, then the node's label. */
  region?: string;
  /** The `failoverRegion` parameter's regions, in order; empty without failover. */
  failoverRegions: readonly string[];
  usePodIdentity: boolean;
  /** A role to assume with the pod's credentials before fetching (`assumeRoleArn` parameter). */
  assumeRoleArn?: string;
  assumeRoleExternalId?: string;
  /** 900..3600 (AWS's cap on chained sessions), checked at parse time. */
  assumeRoleDurationSeconds?: number;
  preferredAddressType: AddressType;
  /** The request's default file mode (decimal from the wire, e.g. 420 = 0644). */
  permission: number;
  targetPath: string;
  objects: ObjectSpec[];
  /** Human warnings found while parsing (e.g. a misspelt parameter name); logged, never fatal. */
  warnings: string[];
}

/** Describes an object in messages the way the user wrote it: `objects[2] "MySecret"`. */
export function describeObject(spec: Pick<ObjectSpec, 'index' | 'primary'>): string {
  return `objects[${spec.index}] "${spec.primary.objectName}"`;
}
