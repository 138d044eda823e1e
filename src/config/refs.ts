import { invalidSpc } from '../errors.js';
import { objectTypeOfArn, parseArn, type Arn } from './arn.js';
import type { ObjectRef, ObjectType } from './types.js';

/** An ARN that names a secret or parameter, with the type it implies, or an error that says which part is wrong. */
export function checkedArn(name: string, where: string, field: string): { arn: Arn; objectType: ObjectType } {
  const arn = parseArn(name);
  const type = typeof arn === 'string' ? arn : objectTypeOfArn(arn);
  if (typeof arn === 'string' || (type !== 'secretsmanager' && type !== 'ssmparameter')) {
    throw invalidSpc(
      `${where}: ${field} starts with "arn:" but is not a secret or parameter ARN: ${type}. ` +
        'Write a full ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME or ' +
        'arn:aws:ssm:REGION:ACCOUNT:parameter/NAME) or a plain name with objectType.',
    );
  }
  return { arn, objectType: type };
}

/** GetParameters takes one selector per name (`name:version` or `name:label`), and its versions are numbers. */
export function checkSsmSelector(ref: ObjectRef, type: ObjectType, where: string): void {
  if (type !== 'ssmparameter') return;
  if (ref.objectVersion !== undefined && ref.objectVersionLabel !== undefined) {
    throw invalidSpc(
      `${where}: an SSM parameter takes objectVersion or objectVersionLabel, not both. Remove one of them.`,
    );
  }
  if (ref.objectVersion !== undefined && !/^[1-9]\d*$/.test(ref.objectVersion)) {
    throw invalidSpc(
      `${where}: objectVersion "${ref.objectVersion}" is not an SSM parameter version. ` +
        'Use a positive whole number, e.g. "3".',
    );
  }
}

/** An ARN is fetched from the region it names, so it must name the region the mount fetches from. */
export function checkArnRegion(
  where: string,
  field: string,
  arnRegion: string,
  region: string,
  regionName: 'region' | 'failoverRegion',
): void {
  if (arnRegion === region) return;
  throw invalidSpc(
    `${where}: ${field} is an ARN in region ${arnRegion}, but the mount's ${regionName} is ${region}. ` +
      `Use the object's ARN in ${region}, or set ${regionName}: ${arnRegion}.`,
  );
}
