import { invalidRequest } from '../errors.js';
import { parseObjects, type ObjectsContext, type ParsedObjects } from './objects.js';
import { parameterWarnings, parseParameters } from './parameters.js';
import type { MountConfig, PodInfo, ServiceAccountToken } from './types.js';

/** The MountRequest fields this stage reads, as they come off the wire. */
export interface MountRequestFields {
  attributes: string;
  secrets: string;
  targetPath: string;
  permission: string;
}

const POD_NAME = 'csi.storage.k8s.io/pod.name';
const POD_NAMESPACE = 'csi.storage.k8s.io/pod.namespace';
const POD_UID = 'csi.storage.k8s.io/pod.uid';
const SERVICE_ACCOUNT = 'csi.storage.k8s.io/serviceAccount.name';
export const TOKENS_KEY = 'csi.storage.k8s.io/serviceAccount.tokens';

/** Parses the objects YAML: parseObjects itself, or a cache of it (ObjectsCache). */
export type ObjectsParser = (source: string, ctx: ObjectsContext) => ParsedObjects;

/** The whole parse stage: wire strings in, a validated MountConfig out, or an INVALID_ARGUMENT error. */
export function parseMountRequest(req: MountRequestFields, parse: ObjectsParser = parseObjects): MountConfig {
  const attributes = parseStringMap(req.attributes, 'attributes');
  const secrets = req.secrets === '' || req.secrets.trim() === 'null' ? {} : parseStringMap(req.secrets, 'secrets');
  const pod = parsePod(attributes);
  const tokens = parseTokens(attributes, secrets);
  const permission = parsePermission(req.permission);
  const parameters = parseParameters(attributes);
  const { objects: objectsYaml, translation, ...rest } = parameters;
  const { objects, warnings } = parse(objectsYaml, {
    ...(rest.region !== undefined && { region: rest.region }),
    // The objects are parsed for the first failover region; a later one is asked for the same (refInRegion).
    ...(rest.failoverRegions[0] !== undefined && { failoverRegion: rest.failoverRegions[0] }),
    translation,
    defaultMode: permission,
  });
  return {
    pod,
    tokens,
    ...rest,
    permission,
    targetPath: req.targetPath,
    objects,
    warnings: boundedWarnings([...parameterWarnings(attributes), ...warnings]),
  };
}

/** A Mount's warnings are one log line; a request of a thousand misspelt keys must not make it a huge one. */
const MAX_WARNINGS = 5;

function boundedWarnings(warnings: string[]): string[] {
  if (warnings.length <= MAX_WARNINGS) return warnings;
  return [...warnings.slice(0, MAX_WARNINGS), `… and ${warnings.length - MAX_WARNINGS} more warnings of the same kinds`];
}

/**
 * A JSON object whose values are strings. The message never quotes the input: `secrets` holds the
 * node-publish secret and both may hold service account tokens.
 */
function parseStringMap(text: string, field: 'attributes' | 'secrets'): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalidRequest(`the MountRequest ${field} is not valid JSON. The driver sends a JSON object of strings.`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalidRequest(`the MountRequest ${field} is not a JSON object. The driver sends a JSON object of strings.`);
  }
  // JSON.parse builds a fresh plain object: checked in place rather than copied, as every Mount parses one.
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value !== 'string') throw invalidRequest(`the MountRequest ${field} has a value for "${key}" that is not a string.`);
  }
  return parsed as Record<string, string>;
}

/** The file mode the driver asks for, as a decimal JSON number ("420" = 0644). */
function parsePermission(text: string): number {
  const mode = /^(0|[1-9]\d{0,2})$/.test(text) ? Number(text) : Number.NaN;
  if (mode >= 0 && mode <= 0o777) return mode;
  throw invalidRequest(
    `the MountRequest permission "${text.slice(0, 20)}" is not a file mode: it must be a decimal number from 0 to 511 ` +
      '(0777), e.g. "420" for 0644. Check the filePermission of the volume.',
  );
}

function parsePod(attributes: Record<string, string>): PodInfo {
  const required = (key: string): string => {
    const value = attributes[key];
    if (value) return value;
    throw invalidRequest(
      `the mount attributes lack ${key}. The CSIDriver secrets-store.csi.k8s.io must have podInfoOnMount: true ` +
        '(the driver chart sets it).',
    );
  };
  return {
    name: required(POD_NAME),
    namespace: required(POD_NAMESPACE),
    uid: attributes[POD_UID] ?? '',
    serviceAccountName: required(SERVICE_ACCOUNT),
  };
}

/**
 * Service account tokens by audience, from the attributes or else the node-publish secrets (the CSIDriver's
 * serviceAccountTokenInSecrets). None at all is not an error here: the identity stage knows which audience it
 * needs and says how to add it. Messages name the audience at most, never a token.
 */
function parseTokens(
  attributes: Record<string, string>,
  secrets: Record<string, string>,
): Record<string, ServiceAccountToken> {
  const fromAttributes = attributes[TOKENS_KEY];
  const text = fromAttributes || secrets[TOKENS_KEY];
  if (!text) return {};
  const where = `${TOKENS_KEY} (in the ${fromAttributes ? 'attributes' : 'secrets'})`;
  const malformed = (detail: string) =>
    invalidRequest(`${where} ${detail}. It must be JSON like {"<audience>": {"token": "…", "expirationTimestamp": "…"}}.`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw malformed('is not valid JSON');
  }
  if (!isPlainObject(parsed)) throw malformed('is not a JSON object');
  const tokens: Record<string, ServiceAccountToken> = {};
  for (const [audience, entry] of Object.entries(parsed)) {
    if (!isPlainObject(entry) || typeof entry.token !== 'string' || entry.token === '') {
      throw malformed(`has no token string for audience "${audience}"`);
    }
    const expiry = entry.expirationTimestamp;
    if (expiry !== undefined && typeof expiry !== 'string') {
      throw malformed(`has an expirationTimestamp for audience "${audience}" that is not a string`);
    }
    tokens[audience] = { token: entry.token, ...(expiry !== undefined && { expirationTimestamp: expiry }) };
  }
  return tokens;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
