import { isKnownRegion } from './regions.js';
import { invalidSpc } from '../errors.js';
import type { PathTranslation } from './paths.js';
import { parseArn } from './arn.js';
import { closestName } from './similar.js';
import type { AddressType } from './types.js';

/** The SecretProviderClass parameters, typed. `objects` stays text: objects.ts parses it. */
export interface SpcParameters {
  region?: string;
  /** `failoverRegion`, a comma-separated list: tried in order, each on a regional fault of the one before. */
  failoverRegions: readonly string[];
  translation: PathTranslation;
  usePodIdentity: boolean;
  preferredAddressType: AddressType;
  assumeRoleArn?: string;
  assumeRoleExternalId?: string;
  assumeRoleDurationSeconds?: number;
  objects: string;
}

export const KNOWN_PARAMETERS = [
  'region',
  'failoverRegion',
  'pathTranslation',
  'objects',
  'usePodIdentity',
  'preferredAddressType',
  'assumeRoleArn',
  'assumeRoleExternalId',
  'assumeRoleDurationSeconds',
] as const;

type Attributes = Readonly<Record<string, string>>;

/** A parameter set to "" is unset: the driver passes SPC parameters through, empty ones included. */
function param(attributes: Attributes, name: (typeof KNOWN_PARAMETERS)[number]): string | undefined {
  const value = attributes[name];
  return value === undefined || value === '' ? undefined : value;
}

export function parseParameters(attributes: Attributes): SpcParameters {
  const region = parseRegion(param(attributes, 'region'), 'region');
  const failoverRegions = parseFailoverRegions(param(attributes, 'failoverRegion'), region);
  const objects = param(attributes, 'objects');
  if (objects === undefined) {
    throw invalidSpc('the objects parameter is missing or empty. List the secrets and parameters to mount under objects.');
  }
  return {
    ...(region !== undefined && { region }),
    failoverRegions,
    translation: parseTranslation(param(attributes, 'pathTranslation')),
    usePodIdentity: parseBool(param(attributes, 'usePodIdentity'), 'usePodIdentity'),
    preferredAddressType: parseAddressType(param(attributes, 'preferredAddressType')),
    ...parseAssumeRole(attributes),
    objects,
  };
}

function parseRegion(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return value;
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(value)) {
    throw invalidSpc(`${name} "${value}" is not an AWS region name. Write it like us-east-1 (lower case, no spaces).`);
  }
  if (!isKnownRegion(value)) throw invalidSpc(unknownRegion(name, value));
  return value;
}

/** `us-west-2` or `us-west-2,eu-west-1`: known regions, each once, none the mount's own. */
function parseFailoverRegions(value: string | undefined, region: string | undefined): readonly string[] {
  if (value === undefined) return [];
  const regions = value.split(',').map((name) => name.trim());
  const list = regions.length > 1;
  regions.forEach((name, i) => {
    const field = list ? `failoverRegion entry ${i + 1}` : 'failoverRegion';
    if (name === '') throw invalidSpc(`${field} is empty. Write the regions like us-west-2,eu-west-1.`);
    parseRegion(name, field);
    if (name === region) {
      throw invalidSpc(`${field} ${name} is the same as region. Set failoverRegion to other regions, or remove it.`);
    }
    if (regions.indexOf(name) !== i) throw invalidSpc(`failoverRegion lists ${name} twice. List each region once.`);
  });
  return Object.freeze(regions);
}

/** Also said of AWS_REGION and a node's region label (mount/region.ts), whose fix is elsewhere. */
export function unknownRegion(where: string, value: string): string {
  return (
    `${where} "${value}" is not an AWS region known to this provider (its AWS SDK's partition data), so no AWS ` +
    'endpoint would answer for it. Check the spelling (e.g. us-east-1, eu-west-1); a region launched after this ' +
    'provider version needs a newer provider.'
  );
}

/** ASCP: empty means `_`, "False" in any case turns translation off, anything else must be one character. */
function parseTranslation(value: string | undefined): PathTranslation {
  if (value === undefined) return '_';
  if (value.toLowerCase() === 'false') return false;
  if ([...value].length === 1) return value;
  throw invalidSpc(
    `pathTranslation "${value}" must be a single character (the one that replaces "/" in file names) or "False".`,
  );
}

// ASCP reads usePodIdentity with Go's strconv.ParseBool, so its spellings (1, t, T, TRUE, …) keep working.
const TRUE_WORDS: ReadonlySet<string> = new Set(['true', 't', '1']);
const FALSE_WORDS: ReadonlySet<string> = new Set(['false', 'f', '0']);

function parseBool(value: string | undefined, name: string): boolean {
  if (value === undefined) return false;
  const word = value.toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  throw invalidSpc(`${name} "${value}" is not a boolean. Use "true" or "false".`);
}

/** As ASCP: any case; anything but ipv4 or ipv6 is auto (parameterWarnings says so when it was not written auto). */
function parseAddressType(value: string | undefined): AddressType {
  const type = value?.toLowerCase();
  return type === 'ipv4' || type === 'ipv6' ? type : 'auto';
}

function addressTypeWarning(attributes: Attributes): string[] {
  const value = param(attributes, 'preferredAddressType');
  if (value === undefined || ['ipv4', 'ipv6', 'auto'].includes(value.toLowerCase())) return [];
  const podIdentity = (() => {
    try {
      return parseBool(param(attributes, 'usePodIdentity'), 'usePodIdentity');
    } catch {
      return false;
    }
  })();
  const effect = podIdentity ? 'it is taken as auto (IPv4, then IPv6), as ASCP does' : 'IRSA does not use it, so it is ignored';
  return [`preferredAddressType "${value}" is not ipv4, ipv6 or auto; ${effect}. Fix or remove it.`];
}

const MIN_ROLE_SECONDS = 900;
/** AWS caps a role-chaining session at one hour, and every assumeRoleArn session is chained (from IRSA or Pod Identity). */
const MAX_ROLE_SECONDS = 3600;

function parseAssumeRole(attributes: Attributes): Pick<SpcParameters, 'assumeRoleArn' | 'assumeRoleExternalId' | 'assumeRoleDurationSeconds'> {
  const roleArn = param(attributes, 'assumeRoleArn');
  const externalId = param(attributes, 'assumeRoleExternalId');
  const duration = param(attributes, 'assumeRoleDurationSeconds');
  if (roleArn === undefined) {
    const orphan = externalId !== undefined ? 'assumeRoleExternalId' : duration !== undefined ? 'assumeRoleDurationSeconds' : undefined;
    if (orphan) throw invalidSpc(`${orphan} is set without assumeRoleArn. Set assumeRoleArn, or remove ${orphan}.`);
    return {};
  }
  const arn = parseArn(roleArn);
  if (typeof arn === 'string' || arn.service !== 'iam' || !arn.resource.startsWith('role/')) {
    throw invalidSpc(`assumeRoleArn "${roleArn}" is not an IAM role ARN. Write it as arn:aws:iam::ACCOUNT:role/NAME.`);
  }
  return {
    assumeRoleArn: roleArn,
    ...(externalId !== undefined && { assumeRoleExternalId: externalId }),
    ...(duration !== undefined && { assumeRoleDurationSeconds: parseDuration(duration) }),
  };
}

function parseDuration(text: string): number {
  const seconds = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (seconds >= MIN_ROLE_SECONDS && seconds <= MAX_ROLE_SECONDS) return seconds;
  throw invalidSpc(
    `assumeRoleDurationSeconds "${text}" must be a whole number of seconds from ${MIN_ROLE_SECONDS} to ` +
      `${MAX_ROLE_SECONDS}: AWS caps a chained role session (assumeRoleArn after IRSA or Pod Identity) at one hour.`,
  );
}

/** Keys the driver itself adds, never misspellings of ours. */
function isDriverKey(key: string): boolean {
  return key.startsWith('csi.storage.k8s.io/') || key === 'secretProviderClass';
}

/**
 * Warnings for keys that look like a misspelt parameter (`Region`, `failOverRegion`, `object`), and for a
 * preferredAddressType ASCP accepts but does not understand. Never errors: the driver merges SPC parameters with
 * the pod's volumeAttributes, so any key may legitimately be there.
 */
export function parameterWarnings(attributes: Attributes): string[] {
  const known: readonly string[] = KNOWN_PARAMETERS;
  const misspelt = Object.keys(attributes)
    .filter((key) => !known.includes(key) && !isDriverKey(key))
    .flatMap((key) => {
      const meant = closestName(key, KNOWN_PARAMETERS);
      return meant === undefined
        ? []
        : [`parameter "${key}" is not one this provider reads and is ignored; did you mean "${meant}"? (names are case-sensitive)`];
    });
  return [...addressTypeWarning(attributes), ...misspelt];
}
