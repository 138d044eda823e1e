import type { AwsCredentialIdentity } from '@aws-sdk/types';
import type { AwsIdentity as SigningIdentity } from '../aws/types.js';
import type { MountConfig } from '../config/types.js';

/**
 * The AWS identity a Mount acts as. `key` names everything that decides what the credentials may read
 * (see identityKey); every cache of credentials, clients or values is keyed by it, so one pod is never served
 * what was obtained for another identity.
 */
export interface AwsIdentity extends SigningIdentity {
  /** Resolved credentials, never a provider: the cache decides when they are obtained again. */
  credentials: AwsCredentialIdentity;
  /** For messages: "IRSA role arn:… (service account ns/sa)". */
  description: string;
}

export interface IdentityResolver {
  /** `regions`: the Mount's region, then its failover regions: STS is asked in that order (see regionalSts.ts). */
  resolve(config: MountConfig, regions: readonly string[], signal: AbortSignal): Promise<AwsIdentity>;
}

/** What an identity is made of. Two Mounts share credentials only when every field is equal. */
export interface IdentityParts {
  kind: 'irsa' | 'podidentity';
  namespace: string;
  serviceAccount: string;
  /**
   * The IRSA role annotated on the ServiceAccount. Pod Identity has none here: its role is the association's,
   * which EKS keys by namespace and service account, both already in the key.
   */
  role?: string;
  /** `assumeRoleArn`, the role chained into after the base credentials. */
  chainedRole?: string;
  /** `assumeRoleExternalId`: a chained session obtained with another external id is another identity. */
  externalId?: string;
}

/** The one place the identity key is spelled: JSON, so no field value can forge a separator. */
export function identityKey(parts: IdentityParts): string {
  return JSON.stringify([
    parts.kind,
    parts.namespace,
    parts.serviceAccount,
    parts.role ?? null,
    parts.chainedRole ?? null,
    parts.externalId ?? null,
  ]);
}

/**
 * Who a Mount acts as, known before any call to STS or the agent: the cache is asked first, and `obtain` runs
 * only when it holds no usable credentials for these parts.
 */
export interface IdentityPlan {
  parts: IdentityParts;
  description: string;
  /** The id of the verified token `obtain` calls with (its hash): Mounts with identical tokens share one call. */
  tokenId: string;
  /** Calls STS (region by region, in order) or the Pod Identity agent for fresh credentials. */
  obtain(regions: readonly string[], signal: AbortSignal): Promise<AwsCredentialIdentity>;
}

/** IRSA or Pod Identity: verifies the request's token and names the identity; cheap (lookups are cached). */
export interface IdentitySource {
  plan(config: MountConfig): Promise<IdentityPlan>;
}
