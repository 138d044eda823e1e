import type { MountConfig } from '../config/types.js';
import { isProviderError } from '../errors.js';
import type { RoleChainer } from './assumeRole.js';
import type { Caller, CredentialCache } from './credentialCache.js';
import { identityKey, type AwsIdentity, type IdentityResolver, type IdentitySource } from './identity.js';
import { roleSessionName } from './sessionName.js';

/**
 * A Mount's identity: the base credentials of IRSA or Pod Identity, then, with `assumeRoleArn`, the chained
 * role's. Both come through the credential cache under their own identity key, so a repeat Mount calls neither
 * STS nor the agent, and two SecretProviderClasses chaining from one service account share its base credentials.
 * The source has verified the Mount's token before the cache is asked.
 */
export class CachingIdentityResolver implements IdentityResolver {
  /**
   * Refusals of a token by STS or the agent. A Mount that joined a call made with a sibling's token retries with
   * its own only after one of these: not after a refused AssumeRole of a chained role, which no token changes.
   */
  private readonly tokenRefusals = new WeakSet<object>();

  constructor(
    private readonly source: IdentitySource,
    private readonly cache: CredentialCache,
    private readonly chainer: RoleChainer,
    /** Told of every call to STS or the agent (cache misses only): where the metrics plug in. */
    private readonly onFetch?: (kind: CredentialFetchKind, outcome: 'ok' | 'error') => void,
  ) {}

  async resolve(config: MountConfig, regions: readonly string[], signal: AbortSignal): Promise<AwsIdentity> {
    const plan = await this.source.plan(config);
    const baseKey = identityKey(plan.parts);
    const caller: Caller = {
      namespace: plan.parts.namespace,
      tokenId: plan.tokenId,
      retryOwn: (err) => typeof err === 'object' && err !== null && this.tokenRefusals.has(err),
    };
    const obtainBase = async (shared: AbortSignal) => {
      try {
        return await this.observed(plan.parts.kind, plan.obtain(regions, shared));
      } catch (err) {
        if (isProviderError(err) && err.code === 'CredentialsRefused') this.tokenRefusals.add(err);
        throw err;
      }
    };
    const base = (waitSignal: AbortSignal) => this.cache.get(baseKey, obtainBase, waitSignal, caller);
    if (config.assumeRoleArn === undefined) {
      return { key: baseKey, credentials: await base(signal), description: plan.description };
    }

    const roleArn = config.assumeRoleArn;
    const externalId = config.assumeRoleExternalId;
    const key = identityKey({ ...plan.parts, chainedRole: roleArn, externalId });
    // The base credentials are needed only when the chained ones are not cached.
    const chain = async (shared: AbortSignal) => {
      const request = {
        base: await base(shared),
        baseDescription: plan.description,
        roleArn,
        externalId,
        durationSeconds: config.assumeRoleDurationSeconds,
        sessionName: roleSessionName(config.pod.namespace, config.pod.name),
        regions,
      };
      return this.observed('assumerole', this.chainer.assume(request, shared));
    };
    const credentials = await this.cache.get(key, chain, signal, caller);
    return { key, credentials, description: `role ${roleArn} chained from ${plan.description}` };
  }

  private async observed<T>(kind: CredentialFetchKind, call: Promise<T>): Promise<T> {
    try {
      const result = await call;
      this.onFetch?.(kind, 'ok');
      return result;
    } catch (err) {
      this.onFetch?.(kind, 'error');
      throw err;
    }
  }
}

export type CredentialFetchKind = 'irsa' | 'podidentity' | 'assumerole';
