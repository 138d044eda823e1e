import { describe, expect, it } from 'vitest';
import { callKey, SharedCalls } from '../../../src/aws/sharedCalls.js';

/** A call the test answers by hand, counting how often it was started. */
function manualCall<T>() {
  const started: AbortSignal[] = [];
  let answer!: (value: T) => void;
  const call = (signal: AbortSignal) => {
    started.push(signal);
    return new Promise<T>((resolve) => (answer = resolve));
  };
  return { call, started, answer: (value: T) => answer(value) };
}

describe('SharedCalls', () => {
  it('runs identical concurrent calls once and gives every caller the answer', async () => {
    const shared = new SharedCalls();
    const { call, started, answer } = manualCall<string>();
    const waits = Array.from({ length: 10 }, () => shared.run('k', call, new AbortController().signal));
    await Promise.resolve();
    answer('value');
    expect(await Promise.all(waits)).toEqual(Array(10).fill('value'));
    expect(started).toHaveLength(1);
    expect(shared.size).toBe(0);
  });

  it('runs calls with different keys separately', async () => {
    const shared = new SharedCalls();
    let count = 0;
    const call = async () => ++count;
    await Promise.all([shared.run('a', call), shared.run('b', call)]);
    expect(count).toBe(2);
  });

  it('calls again once the earlier call has settled (it shares flights, it caches nothing)', async () => {
    const shared = new SharedCalls();
    let count = 0;
    const call = async () => ++count;
    expect(await shared.run('k', call)).toBe(1);
    expect(await shared.run('k', call)).toBe(2);
  });

  it('passes a failure to every waiter', async () => {
    const shared = new SharedCalls();
    const call = () => Promise.reject(new Error('throttled'));
    const waits = [shared.run('k', call), shared.run('k', call)];
    for (const wait of waits) await expect(wait).rejects.toThrow('throttled');
  });

  it('aborts the call only when every waiter has given up', async () => {
    const shared = new SharedCalls();
    const { call, started, answer } = manualCall<string>();
    const a = new AbortController();
    const b = new AbortController();
    const waitA = shared.run('k', call, a.signal);
    const waitB = shared.run('k', call, b.signal);
    await Promise.resolve();
    a.abort();
    await expect(waitA).rejects.toMatchObject({ name: 'AbortError' });
    expect(started[0]!.aborted).toBe(false);
    b.abort();
    await expect(waitB).rejects.toMatchObject({ name: 'AbortError' });
    expect(started[0]!.aborted).toBe(true);
    answer('late');
    // A new caller starts a new call rather than joining the abandoned one.
    const fresh = manualCall<string>();
    const waitC = shared.run('k', fresh.call);
    await Promise.resolve();
    fresh.answer('new');
    await expect(waitC).resolves.toBe('new');
  });
});

describe('callKey', () => {
  it('differs for different parameters and ignores undefined fields', () => {
    expect(callKey('GetSecretValue', { SecretId: 'a', VersionId: undefined })).toBe(callKey('GetSecretValue', { SecretId: 'a' }));
    expect(callKey('GetSecretValue', { SecretId: 'a' })).not.toBe(callKey('GetSecretValue', { SecretId: 'b' }));
    expect(callKey('GetSecretValue', { SecretId: 'a' })).not.toBe(callKey('BatchGetSecretValue', { SecretId: 'a' }));
  });
});
