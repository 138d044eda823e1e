import type { AwsCredentialIdentity } from '@aws-sdk/types';
import { describe, expect, it } from 'vitest';
import { CredentialCache } from '../../../src/auth/credentialCache.js';

const MINUTE = 60_000;

/** A clock the test moves, and a loader that counts its calls and answers when told. */
function setup(options: { refreshMarginMs?: number; maxEntries?: number } = {}) {
  let now = 1_000_000_000_000;
  const cache = new CredentialCache({
    maxEntries: options.maxEntries ?? 100,
    refreshMarginMs: options.refreshMarginMs ?? 5 * MINUTE,
    obtainTimeoutMs: 60_000,
    now: () => now,
  });
  const calls: string[] = [];
  const loader = (key: string, lifetimeMs = 60 * MINUTE) => async (): Promise<AwsCredentialIdentity> => {
    calls.push(key);
    return { accessKeyId: `${key}-${calls.length}`, secretAccessKey: 's', expiration: new Date(now + lifetimeMs) };
  };
  return { cache, calls, loader, advance: (ms: number) => (now += ms) };
}

const live = () => new AbortController().signal;

describe('CredentialCache', () => {
  it('reuses credentials until the refresh margin before they expire', async () => {
    const { cache, calls, loader, advance } = setup();
    const first = await cache.get('a', loader('a'), live());
    advance(54 * MINUTE);
    expect(await cache.get('a', loader('a'), live())).toBe(first);
    expect(calls).toHaveLength(1);
    advance(2 * MINUTE); // 4 minutes left: inside the 5-minute margin
    const renewed = await cache.get('a', loader('a'), live());
    expect(renewed.accessKeyId).toBe('a-2');
    expect(calls).toHaveLength(2);
  });

  it('obtains afresh every time when the credentials live shorter than the margin', async () => {
    const { cache, calls, loader } = setup({ refreshMarginMs: 120 * MINUTE });
    await cache.get('a', loader('a'), live());
    await cache.get('a', loader('a'), live());
    await cache.get('a', loader('a'), live());
    expect(calls).toHaveLength(3);
  });

  it('shares one call between concurrent lookups of one key', async () => {
    const { cache, calls, loader } = setup();
    const results = await Promise.all(Array.from({ length: 50 }, () => cache.get('a', loader('a'), live())));
    expect(calls).toHaveLength(1);
    expect(new Set(results.map((c) => c.accessKeyId))).toEqual(new Set(['a-1']));
  });

  it('never serves one key what was obtained for another', async () => {
    const { cache, calls, loader } = setup();
    const [a, b] = await Promise.all([cache.get('a', loader('a'), live()), cache.get('b', loader('b'), live())]);
    expect(calls).toEqual(['a', 'b']);
    expect(a.accessKeyId).toBe('a-1');
    expect(b.accessKeyId).toBe('b-2');
  });

  it('does not cache a failure: the next lookup calls again', async () => {
    const { cache, calls, loader } = setup();
    const failing = async (): Promise<AwsCredentialIdentity> => {
      calls.push('fail');
      throw new Error('STS said no');
    };
    await expect(cache.get('a', failing, live())).rejects.toThrow('STS said no');
    await expect(cache.get('a', loader('a'), live())).resolves.toMatchObject({ accessKeyId: 'a-2' });
  });

  it("a caller's deadline ends its own wait, not the call others share", async () => {
    const { cache } = setup();
    let answer!: (c: AwsCredentialIdentity) => void;
    const slow = () => new Promise<AwsCredentialIdentity>((resolve) => (answer = resolve));
    const impatient = new AbortController();
    const first = cache.get('a', slow, impatient.signal);
    const second = cache.get('a', slow, live());
    impatient.abort();
    await expect(first).rejects.toMatchObject({ name: 'AbortError' });
    answer({ accessKeyId: 'shared', secretAccessKey: 's' });
    await expect(second).resolves.toMatchObject({ accessKeyId: 'shared' });
  });

  it('keeps at most maxEntries identities', async () => {
    const { cache, loader } = setup({ maxEntries: 2 });
    for (const key of ['a', 'b', 'c']) await cache.get(key, loader(key), live());
    expect(cache.size).toBe(2);
  });
});
