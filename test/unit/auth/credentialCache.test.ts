import type { AwsCredentialIdentity } from '@aws-sdk/types';
import { describe, expect, it } from 'vitest';
import { CredentialCache, type Caller } from '../../../src/auth/credentialCache.js';

const MINUTE = 60_000;

/** A clock the test moves, and a loader that counts its calls and answers when told. */
function setup(options: { refreshMarginMs?: number; maxEntries?: number; maxEntriesPerNamespace?: number } = {}) {
  let now = 1_000_000_000_000;
  const cache = new CredentialCache({
    maxEntries: options.maxEntries ?? 100,
    maxEntriesPerNamespace: options.maxEntriesPerNamespace ?? 100,
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
/** A caller of namespace `ns` with token `token`; refusals (errors named Refused) are worth a retry. */
const who = (token = 't1', ns = 'ns'): Caller => ({
  namespace: ns,
  tokenId: token,
  retryOwn: (err) => err instanceof Error && err.name === 'Refused',
});

describe('CredentialCache', () => {
  it('reuses credentials until the refresh margin before they expire', async () => {
    const { cache, calls, loader, advance } = setup();
    const first = await cache.get('a', loader('a'), live(), who());
    advance(54 * MINUTE);
    expect(await cache.get('a', loader('a'), live(), who())).toBe(first);
    expect(calls).toHaveLength(1);
    advance(2 * MINUTE); // 4 minutes left: inside the 5-minute margin
    const renewed = await cache.get('a', loader('a'), live(), who());
    expect(renewed.accessKeyId).toBe('a-2');
    expect(calls).toHaveLength(2);
  });

  it('obtains afresh every time when the credentials live shorter than the margin', async () => {
    const { cache, calls, loader } = setup({ refreshMarginMs: 120 * MINUTE });
    await cache.get('a', loader('a'), live(), who());
    await cache.get('a', loader('a'), live(), who());
    await cache.get('a', loader('a'), live(), who());
    expect(calls).toHaveLength(3);
  });

  it('shares one call between concurrent lookups of one key', async () => {
    const { cache, calls, loader } = setup();
    const results = await Promise.all(Array.from({ length: 50 }, () => cache.get('a', loader('a'), live(), who())));
    expect(calls).toHaveLength(1);
    expect(new Set(results.map((c) => c.accessKeyId))).toEqual(new Set(['a-1']));
  });

  it('never serves one key what was obtained for another', async () => {
    const { cache, calls, loader } = setup();
    const [a, b] = await Promise.all([cache.get('a', loader('a'), live(), who()), cache.get('b', loader('b'), live(), who())]);
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
    await expect(cache.get('a', failing, live(), who())).rejects.toThrow('STS said no');
    await expect(cache.get('a', loader('a'), live(), who())).resolves.toMatchObject({ accessKeyId: 'a-2' });
  });

  it("a caller's deadline ends its own wait, not the call others share", async () => {
    const { cache } = setup();
    let answer!: (c: AwsCredentialIdentity) => void;
    const slow = () => new Promise<AwsCredentialIdentity>((resolve) => (answer = resolve));
    const impatient = new AbortController();
    const first = cache.get('a', slow, impatient.signal, who());
    const second = cache.get('a', slow, live(), who());
    impatient.abort();
    await expect(first).rejects.toMatchObject({ name: 'AbortError' });
    answer({ accessKeyId: 'shared', secretAccessKey: 's' });
    await expect(second).resolves.toMatchObject({ accessKeyId: 'shared' });
  });

  it('keeps at most maxEntries identities', async () => {
    const { cache, loader } = setup({ maxEntries: 2 });
    for (const key of ['a', 'b', 'c']) await cache.get(key, loader(key), live(), who());
    expect(cache.size).toBe(2);
  });

  it('a Mount that joined a call refused with another token tries once with its own', async () => {
    const { cache } = setup();
    const tokensUsed: string[] = [];
    let refuse!: () => void;
    // The first caller's token is refused (after the second has joined); the second's is accepted.
    const withToken = (token: string) => async (): Promise<AwsCredentialIdentity> => {
      tokensUsed.push(token);
      if (token === 'bad') {
        await new Promise<void>((resolve) => (refuse = resolve));
        throw Object.assign(new Error('STS refused the token'), { name: 'Refused' });
      }
      return { accessKeyId: `from-${token}`, secretAccessKey: 's' };
    };
    const first = cache.get('a', withToken('bad'), live(), who('bad'));
    const second = cache.get('a', withToken('good'), live(), who('good'));
    const third = cache.get('a', withToken('bad'), live(), who('bad'));
    refuse();

    await expect(first).rejects.toThrow('STS refused the token');
    await expect(third).rejects.toThrow('STS refused the token');
    await expect(second).resolves.toMatchObject({ accessKeyId: 'from-good' });
    // One shared call with the first token; one more with the second's own; none for the identical third.
    expect(tokensUsed).toEqual(['bad', 'good']);
  });

  it('a failure that is no refusal of the token is shared, not retried', async () => {
    const { cache } = setup();
    let calls = 0;
    let fail!: () => void;
    const unavailable = async (): Promise<AwsCredentialIdentity> => {
      calls += 1;
      await new Promise<void>((resolve) => (fail = resolve));
      throw new Error('STS unavailable');
    };
    const first = cache.get('a', unavailable, live(), who('t1'));
    const second = cache.get('a', unavailable, live(), who('t2'));
    fail();
    await expect(first).rejects.toThrow('STS unavailable');
    await expect(second).rejects.toThrow('STS unavailable');
    expect(calls).toBe(1);
  });

  it("keeps at most maxEntriesPerNamespace of one namespace's identities, dropping its own oldest", async () => {
    const { cache, calls, loader } = setup({ maxEntries: 10, maxEntriesPerNamespace: 3 });
    await cache.get('victim', loader('victim'), live(), who('v', 'other'));
    for (let i = 0; i < 50; i += 1) await cache.get(`greedy-${i}`, loader(`greedy-${i}`), live(), who('g', 'greedy'));
    expect(cache.size).toBe(4);

    calls.splice(0);
    await cache.get('victim', loader('victim'), live(), who('v', 'other'));
    await cache.get('greedy-49', loader('greedy-49'), live(), who('g', 'greedy'));
    expect(calls).toEqual([]);
    await cache.get('greedy-0', loader('greedy-0'), live(), who('g', 'greedy'));
    expect(calls).toEqual(['greedy-0']);
  });

  it("a namespace's recently used identity outlives its older ones", async () => {
    const { cache, calls, loader } = setup({ maxEntriesPerNamespace: 2 });
    await cache.get('a', loader('a'), live(), who());
    await cache.get('b', loader('b'), live(), who());
    await cache.get('a', loader('a'), live(), who());
    await cache.get('c', loader('c'), live(), who());
    calls.splice(0);
    await cache.get('a', loader('a'), live(), who());
    expect(calls).toEqual([]);
    await cache.get('b', loader('b'), live(), who());
    expect(calls).toEqual(['b']);
  });
});
