import type { AwsCredentialIdentity } from '@aws-sdk/types';
import type { MountConfig } from '../config/types.js';

/**
 * The AWS identity a Mount acts as. `key` names everything that decides what the credentials may read
 * (auth kind, namespace, service account, role); every cache of credentials, clients or values is keyed by it,
 * so one pod is never served what was obtained for another identity.
 */
export interface AwsIdentity {
  key: string;
  credentials: AwsCredentialIdentity;
  /** For messages: "IRSA role arn:… (service account ns/sa)". */
  description: string;
}

export interface IdentityResolver {
  resolve(config: MountConfig, region: string, signal: AbortSignal): Promise<AwsIdentity>;
}
