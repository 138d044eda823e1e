import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { withTimeout } from '../../src/abortable.js';

describe('withTimeout', () => {
  it('aborts with a TimeoutError naming the time once it passes', async () => {
    const { signal, done } = withTimeout(new AbortController().signal, 20);
    expect(signal.aborted).toBe(false);
    await sleep(60);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toMatchObject({ name: 'TimeoutError', message: 'timed out after 20 ms' });
    done();
  });

  it('follows the outer signal, with its reason, before the time passes', () => {
    const outer = new AbortController();
    const { signal, done } = withTimeout(outer.signal, 10_000);
    outer.abort(new Error('the Mount deadline passed'));
    expect(signal.aborted).toBe(true);
    expect((signal.reason as Error).message).toBe('the Mount deadline passed');
    done();
  });

  it('starts aborted when the outer signal already is', () => {
    const { signal, done } = withTimeout(AbortSignal.abort(new Error('gone')), 10_000);
    expect((signal.reason as Error).message).toBe('gone');
    done();
  });

  it('neither times out nor follows the outer signal once done', async () => {
    const outer = new AbortController();
    const { signal, done } = withTimeout(outer.signal, 20);
    done();
    await sleep(60);
    outer.abort();
    expect(signal.aborted).toBe(false);
  });

  it('still fires when garbage collections run during the wait (AbortSignal.timeout inside any() did not)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    // Only the returned signal is kept, as fetch() keeps the signal it is given.
    const { signal } = withTimeout(new AbortController().signal, 100);
    for (let i = 0; i < 5; i++) {
      gc();
      await sleep(10);
    }
    await sleep(150);
    gc();
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toMatchObject({ name: 'TimeoutError' });
  });
});
