import type { AwsCredentialIdentity } from '@aws-sdk/types';
import { describe, expect, it } from 'vitest';
import type { ChainRequest, RoleChainer } from '../../../src/auth/assumeRole.js';
import { CredentialCache } from '../../../src/auth/credentialCache.js';
import type { IdentityPlan, IdentitySource } from '../../../src/auth/identity.js';
import { CachingIdentityResolver } from '../../../src/auth/resolver.js';
import type { MountConfig } from '../../../src/config/types.js';
import { ProviderError } from '../../../src/errors.js';

const refused = (what: string) => new ProviderError('CredentialsRefused', `${what} refused`);

/**
 * The two calls a resolver makes, as plain functions: the base call answers after `release()`, refusing the tokens
 * named in `refuse`; the chained call refuses every request when `refuseChain` is set. Both record their calls.
 */
function setup(options: { refuse?: string[]; refuseChain?: boolean } = {}) {
  const baseCalls: string[] = [];
  const chainCalls: string[] = [];
  const waiting: (() => void)[] = [];
  const release = () => waiting.splice(0).forEach((go) => go());
  const source: IdentitySource = {
    plan(config: MountConfig): Promise<IdentityPlan> {
      const token = config.tokens['sts.amazonaws.com']!.token;
      return Promise.resolve({
        parts: { kind: 'irsa', namespace: 'ns', serviceAccount: 'sa', role: 'arn:aws:iam::1:role/base' },
        description: 'IRSA',
        tokenId: `id-${token}`,
        obtain: async (): Promise<AwsCredentialIdentity> => {
          baseCalls.push(token);
          await new Promise<void>((resolve) => waiting.push(resolve));
          if (options.refuse?.includes(token)) throw refused(`the token ${token}`);
          return { accessKeyId: `base-${token}`, secretAccessKey: 's' };
        },
      });
    },
  };
  const chainer = {
    assume(request: ChainRequest): Promise<AwsCredentialIdentity> {
      chainCalls.push(request.base.accessKeyId);
      if (options.refuseChain) return Promise.reject(refused('AssumeRole'));
      return Promise.resolve({ accessKeyId: `chained-${request.base.accessKeyId}`, secretAccessKey: 's' });
    },
  } as unknown as RoleChainer;
  const cache = new CredentialCache({
    maxEntries: 10,
    maxEntriesPerNamespace: 10,
    refreshMarginMs: 0,
    obtainTimeoutMs: 10_000,
  });
  const resolver = new CachingIdentityResolver(source, cache, chainer);
  const resolve = (token: string, chained = false) =>
    resolver.resolve(
      {
        pod: { namespace: 'ns', name: `pod-${token}`, uid: token, serviceAccountName: 'sa' },
        tokens: { 'sts.amazonaws.com': { token } },
        ...(chained && { assumeRoleArn: 'arn:aws:iam::2:role/chained' }),
      } as unknown as MountConfig,
      ['us-east-1'],
      new AbortController().signal,
    );
  return { resolve, release, baseCalls, chainCalls };
}

/** Lets the promise chains run until every pending call has reached the base call. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('CachingIdentityResolver: a Mount that joined a call made with another token', () => {
  it('retries the base call with its own token when STS refused the other', async () => {
    const { resolve, release, baseCalls } = setup({ refuse: ['bad'] });
    const first = resolve('bad');
    await settle();
    const second = resolve('good');
    await settle();
    release();
    await expect(first).rejects.toThrow('the token bad refused');
    await settle();
    release();
    await expect(second).resolves.toMatchObject({ credentials: { accessKeyId: 'base-good' } });
    expect(baseCalls).toEqual(['bad', 'good']);
  });

  it('with a chained role, retries when the base call inside the shared chain was refused', async () => {
    const { resolve, release, baseCalls, chainCalls } = setup({ refuse: ['bad'] });
    const first = resolve('bad', true);
    await settle();
    const second = resolve('good', true);
    await settle();
    release();
    await expect(first).rejects.toThrow('the token bad refused');
    await settle();
    release();
    await expect(second).resolves.toMatchObject({ credentials: { accessKeyId: 'chained-base-good' } });
    expect(baseCalls).toEqual(['bad', 'good']);
    expect(chainCalls).toEqual(['base-good']);
  });

  it('does not retry a refused AssumeRole of the chained role: no token changes that', async () => {
    const { resolve, release, baseCalls, chainCalls } = setup({ refuseChain: true });
    const first = resolve('one', true);
    await settle();
    const second = resolve('two', true);
    await settle();
    release();
    await expect(first).rejects.toThrow('AssumeRole refused');
    await expect(second).rejects.toThrow('AssumeRole refused');
    expect(baseCalls).toEqual(['one']);
    expect(chainCalls).toEqual(['base-one']);
  });
});
