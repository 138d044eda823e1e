/** The shapes shared by the fetch modules of `src/aws`: who asks, and what one region answered per object. */

import type { SecretsManagerClient, SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { SharedCalls } from './sharedCalls.js';

/** Static credentials or a provider of them, exactly what the SDK clients accept. */
export type AwsCredentials = NonNullable<SecretsManagerClientConfig['credentials']>;

/**
 * The identity a Mount acts as. `key` names it uniquely (namespace, service account, role, auth kind): clients
 * and remembered facts are keyed by it, so a pod is never served by another identity's client.
 */
export interface AwsIdentity {
  key: string;
  credentials: AwsCredentials;
}

/** The region's clients as one identity sends through them: every request is signed as that identity. */
export interface RegionClients {
  secretsManager: Pick<SecretsManagerClient, 'send'>;
  ssm: Pick<SSMClient, 'send'>;
  /** Identical calls in flight at once for this identity and region run once (see SharedCalls). */
  shared: SharedCalls;
}

/** The AWS API call an outcome came from; error messages name it with the service. */
export type AwsAction =
  | 'BatchGetSecretValue'
  | 'GetSecretValue'
  | 'GetParameters'
  | 'GetParametersByPath'
  /** BatchGetSecretValue with a name filter (a secret wildcard), which needs secretsmanager:ListSecrets too. */
  | 'BatchGetSecretValue (name filter)'
  /** The listing of a secret wildcard with tags. */
  | 'ListSecrets';

export interface FetchedValue {
  value: Buffer;
  version: string;
  /** A Secrets Manager SecretBinary: raw bytes already, which objectEncoding does not decode. */
  binary?: boolean;
  /** A wildcard's matches, each a file; `value` is then empty. */
  members?: FetchedMember[];
}

/** One match of a wildcard: its name below the path or after the prefix (not yet translated), value and version. */
export interface FetchedMember {
  name: string;
  value: Buffer;
  version: string;
}

/** What one region answered for one requested object: its value, or the error (SDK error or answer-level). */
export type Outcome = { ok: true; fetched: FetchedValue } | { ok: false; error: unknown; action: AwsAction };

/** Remembers, per identity, that `BatchGetSecretValue` is denied, so later Mounts go straight to GetSecretValue. */
export interface BatchSupport {
  isUnsupported(identityKey: string): boolean;
  markUnsupported(identityKey: string): void;
}

/**
 * Per region, whether BatchGetSecretValue was throttled lately (after the SDK's retries): its quota (100/s per
 * account and region) cannot be raised, GetSecretValue's is 100 times larger, so batches go out as GetSecretValue
 * calls until the cool-down ends.
 */
export interface BatchThrottling {
  prefersSingle(region: string): boolean;
  markBatchThrottled(region: string): void;
}

/** Runs one AWS call under the Mount's concurrency bound. */
export type Limit = <T>(call: () => Promise<T>) => Promise<T>;

/** Everything a service module needs to fetch from one region for one identity. */
export interface RegionContext {
  region: string;
  clients: RegionClients;
  identityKey: string;
  batchSupport: BatchSupport;
  batchThrottling: BatchThrottling;
  limit: Limit;
  signal?: AbortSignal;
  /** Matches one wildcard may expand to (--max-files-per-entry). */
  maxMatches: number;
}
