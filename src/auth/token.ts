import { status } from '@grpc/grpc-js';
import type { MountConfig } from '../config/types.js';
import { ProviderError } from '../errors.js';

/**
 * The pod's service account token for `audience`, checked against the pod the Mount names.
 *
 * Credentials are cached by namespace and service account (identityKey), so a token that belonged to another
 * service account than the request says would file its credentials under the wrong identity. The driver mints
 * the token for the pod's own service account, so a mismatch means a malformed request: refuse it. A token that
 * is not a readable JWT is left to STS or the agent to refuse.
 */
export function podToken(config: MountConfig, audience: string, why = ''): string {
  const { namespace, serviceAccountName, name: pod } = config.pod;
  const token = config.tokens[audience]?.token;
  if (!token) {
    throw new ProviderError(
      status.INVALID_ARGUMENT,
      'MissingServiceAccountToken',
      `no service account token for audience "${audience}" in the Mount request of pod ${namespace}/${pod}${why}: ` +
        `add {audience: "${audience}"} to the CSIDriver's tokenRequests (Helm value ` +
        `secrets-store-csi-driver.tokenRequests of the driver chart)`,
    );
  }
  const subject = tokenSubject(token);
  const expected = `system:serviceaccount:${namespace}:${serviceAccountName}`;
  if (subject !== undefined && subject.startsWith('system:serviceaccount:') && subject !== expected) {
    throw new ProviderError(
      status.INVALID_ARGUMENT,
      'InvalidMountRequest',
      `the "${audience}" token of pod ${namespace}/${pod} is for ${subject}, not for its service account ` +
        `${namespace}/${serviceAccountName}: the Mount request is inconsistent`,
    );
  }
  return token;
}

/** The `sub` claim of a JWT, read without verifying it (STS and the agent verify); undefined if unreadable. */
export function tokenSubject(token: string): string | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const sub = (claims as { sub?: unknown } | null)?.sub;
    return typeof sub === 'string' ? sub : undefined;
  } catch {
    return undefined;
  }
}
