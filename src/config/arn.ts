import type { ObjectRef, ObjectType } from './types.js';

/** The parts of an ARN the rules look at. `resource` is everything after the account, colons included. */
export interface Arn {
  partition: string;
  service: string;
  region: string;
  account: string;
  resource: string;
}

/** ASCP treats any name that starts with `arn:` as an ARN; so do we, so a malformed one is an error, not a name. */
export function looksLikeArn(name: string): boolean {
  return name.startsWith('arn:');
}

/** Splits an ARN into its parts, or explains in a few words why it is not one. */
export function parseArn(text: string): Arn | string {
  const parts = text.split(':');
  if (parts.length < 6) return 'an ARN has six parts: arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE';
  const [, partition = '', service = '', region = '', account = ''] = parts;
  const resource = parts.slice(5).join(':');
  // aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, aws-eusc ... all start with "aws".
  if (!/^aws(-[a-z]+)*$/.test(partition)) return `"${partition}" is not an AWS partition (aws, aws-cn, aws-us-gov, ...)`;
  if (!/^[a-z0-9-]+$/.test(service)) return 'its service part is empty or malformed';
  if (!/^\d{12}$/.test(account) && account !== '') return `its account "${account}" is not 12 digits`;
  if (resource === '') return 'its resource part is empty';
  return { partition, service, region, account, resource };
}

const SERVICE_TYPES: Record<string, ObjectType> = { secretsmanager: 'secretsmanager', ssm: 'ssmparameter' };

/**
 * The object type an ARN names, or why it cannot name a secret or parameter: Secrets Manager ARNs are
 * `…:secret:NAME`, Parameter Store ARNs `…:parameter/NAME` (the leading `/` of a hierarchical name folds into it).
 */
export function objectTypeOfArn(arn: Arn): ObjectType | string {
  const type = SERVICE_TYPES[arn.service];
  if (type === undefined) return `its service "${arn.service}" is neither secretsmanager nor ssm`;
  if (arn.region === '') return 'its region part is empty';
  if (arn.account === '') return 'its account part is empty';
  if (type === 'secretsmanager' && !/^secret:.+/.test(arn.resource)) {
    return 'a Secrets Manager ARN ends in secret:NAME';
  }
  if (type === 'ssmparameter' && !/^parameter\/.+/.test(arn.resource)) {
    return 'a Parameter Store ARN ends in parameter/NAME';
  }
  return type;
}

/** The same ARN in another region: how a replica secret is named in the failover region. */
export function withRegion(arn: Arn, region: string): string {
  return ['arn', arn.partition, arn.service, region, arn.account, arn.resource].join(':');
}

/** The region of a name if it is a well-formed ARN; undefined for a plain name. */
export function arnRegion(name: string): string | undefined {
  if (!looksLikeArn(name)) return undefined;
  const arn = parseArn(name);
  return typeof arn === 'string' ? undefined : arn.region;
}

/** The ref as a region serves it: an ARN names its region, so it becomes that region's replica's ARN. */
export function refInRegion(ref: ObjectRef, region: string): ObjectRef {
  const arn = looksLikeArn(ref.objectName) ? parseArn(ref.objectName) : undefined;
  if (arn === undefined || typeof arn === 'string' || arn.region === region) return ref;
  return { ...ref, objectName: withRegion(arn, region) };
}
