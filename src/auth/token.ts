import type { MountConfig } from '../config/types.js';
import { ProviderError } from '../errors.js';
import { UnverifiedToken } from './jwt.js';

/** Clock skew allowed between the API server that minted a token and this node, as the API server allows. */
export const LEEWAY_SECONDS = 60;

/** What a Mount's token must say: minted for this audience, for the pod's service account, and, if bound, the pod. */
export interface TokenExpectation {
  audience: string;
  namespace: string;
  serviceAccount: string;
  podName: string;
  /** Empty when the request named no pod uid. */
  podUid: string;
}

/** The claims of a signed token that the checks read. */
export interface TokenClaims {
  iss: string;
  aud: string[];
  sub: string;
  /** Seconds since the epoch. */
  exp: number;
  nbf: number | undefined;
  /** `kubernetes.io.pod`: present when the token is bound to a pod, as the driver's tokens are. */
  pod: { name: string | undefined; uid: string | undefined } | undefined;
}

/** The claims the checks need, or UnverifiedToken: a service account token always has iss, aud, sub and exp. */
export function readClaims(claims: Record<string, unknown>): TokenClaims {
  const { iss, aud, sub, exp, nbf } = claims;
  const audiences = typeof aud === 'string' ? [aud] : aud;
  if (typeof iss !== 'string' || typeof sub !== 'string' || typeof exp !== 'number') {
    throw new UnverifiedToken('it lacks the iss, sub or exp claim of a service account token');
  }
  if (!Array.isArray(audiences) || !audiences.every((a): a is string => typeof a === 'string')) {
    throw new UnverifiedToken('its aud claim is not a list of audiences');
  }
  const pod = (claims['kubernetes.io'] as { pod?: { name?: unknown; uid?: unknown } } | undefined)?.pod;
  return {
    iss,
    aud: audiences,
    sub,
    exp,
    nbf: typeof nbf === 'number' ? nbf : undefined,
    pod:
      pod === undefined || pod === null
        ? undefined
        : { name: stringOrUndefined(pod.name), uid: stringOrUndefined(pod.uid) },
  };
}

/**
 * Which check a signed token fails for this Mount, as a phrase for the message; undefined when it passes. The
 * issuer and signature are checked before (tokenVerifier.ts): the claims quoted here were written by the API server.
 */
export function claimsProblem(claims: TokenClaims, expected: TokenExpectation, nowSeconds: number): string | undefined {
  if (!claims.aud.includes(expected.audience)) {
    return `its audience is ${JSON.stringify(claims.aud)}, not "${expected.audience}"`;
  }
  const subject = `system:serviceaccount:${expected.namespace}:${expected.serviceAccount}`;
  if (claims.sub !== subject) return `it is for ${claims.sub}, not for the pod's service account ${subject}`;
  if (claims.exp + LEEWAY_SECONDS <= nowSeconds) return `it expired at ${isoSeconds(claims.exp)}`;
  if (claims.nbf !== undefined && claims.nbf - LEEWAY_SECONDS > nowSeconds) {
    return `it is not valid before ${isoSeconds(claims.nbf)}`;
  }
  const pod = claims.pod;
  if (pod === undefined) return undefined;
  const otherName = pod.name !== undefined && pod.name !== expected.podName;
  const otherUid = pod.uid !== undefined && expected.podUid !== '' && pod.uid !== expected.podUid;
  if (otherName || otherUid) {
    return `it is bound to pod ${expected.namespace}/${pod.name ?? '?'} (uid ${pod.uid ?? '?'}), not to the Mount's pod ${expected.namespace}/${expected.podName} (uid ${expected.podUid || '?'})`;
  }
  return undefined;
}

/** What a Mount expects of its token for `audience`. */
export function expectationOf(config: MountConfig, audience: string): TokenExpectation {
  const { namespace, serviceAccountName, name, uid } = config.pod;
  return { audience, namespace, serviceAccount: serviceAccountName, podName: name, podUid: uid };
}

/** The request's token for `audience`, or MissingServiceAccountToken saying how to make the driver send it. */
export function requestToken(config: MountConfig, audience: string, why = ''): string {
  const token = config.tokens[audience]?.token;
  if (token) return token;
  const { namespace, name: pod } = config.pod;
  throw new ProviderError(
    'MissingServiceAccountToken',
    `no service account token for audience "${audience}" in the Mount request of pod ${namespace}/${pod}${why}: ` +
      `add {audience: "${audience}"} to the CSIDriver's tokenRequests (Helm value ` +
      `secrets-store-csi-driver.tokenRequests of the driver chart)`,
  );
}

/** A token refused: names the pod, the audience and the check, never the token. */
export function tokenRefused(expected: TokenExpectation, problem: string): ProviderError {
  return new ProviderError(
    'InvalidServiceAccountToken',
    `the "${expected.audience}" service account token of pod ${expected.namespace}/${expected.podName} was refused: ` +
      `${problem}. Each Mount must carry the pod's own current token, which the driver mints (CSIDriver ` +
      `tokenRequests); nothing was fetched`,
  );
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function isoSeconds(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? String(seconds) : date.toISOString().replace(/\.000Z$/, 'Z');
}
