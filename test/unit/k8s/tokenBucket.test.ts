import { describe, expect, it, vi } from 'vitest';
import { TokenBucket } from '../../../src/k8s/tokenBucket.js';

// vitest's fake timers drive both the clock and the bucket's timer: no test waits on real time.

describe('TokenBucket', () => {
  it('lets a burst through at once, then one call per 1/qps seconds', async () => {
    vi.useFakeTimers();
    try {
      const bucket = new TokenBucket(2, 3, () => Date.now());
      const started: number[] = [];
      const calls = Array.from({ length: 6 }, (_, i) => bucket.run(async () => started.push(i)));
      await vi.advanceTimersByTimeAsync(0);
      expect(started).toEqual([0, 1, 2]);
      await vi.advanceTimersByTimeAsync(500);
      expect(started).toEqual([0, 1, 2, 3]);
      await vi.advanceTimersByTimeAsync(1000);
      expect(started).toEqual([0, 1, 2, 3, 4, 5]);
      await Promise.all(calls);
    } finally {
      vi.useRealTimers();
    }
  });

  it('refills up to the burst, never beyond', async () => {
    vi.useFakeTimers();
    try {
      const bucket = new TokenBucket(10, 2, () => Date.now());
      await vi.advanceTimersByTimeAsync(10_000);
      const started: number[] = [];
      void Promise.all(Array.from({ length: 4 }, (_, i) => bucket.run(async () => started.push(i))));
      await vi.advanceTimersByTimeAsync(0);
      expect(started).toEqual([0, 1]);
      await vi.advanceTimersByTimeAsync(200);
      expect(started).toEqual([0, 1, 2, 3]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('TokenBucket fairness', () => {
  it('serves waiting namespaces in turn, so one namespace cannot make another wait behind all its calls', async () => {
    vi.useFakeTimers();
    try {
      const bucket = new TokenBucket(1, 1, () => Date.now());
      const started: string[] = [];
      const call = (key: string, i: number) => bucket.run(async () => started.push(`${key}${i}`), key);
      const calls = [...Array.from({ length: 6 }, (_, i) => call('noisy', i)), call('quiet', 0), call('quiet', 1)];
      await vi.advanceTimersByTimeAsync(0);
      expect(started).toEqual(['noisy0']);
      await vi.advanceTimersByTimeAsync(4000);
      // One token a second, dealt in turn: the quiet namespace's calls come second and fourth, not after noisy5.
      expect(started).toEqual(['noisy0', 'noisy1', 'quiet0', 'noisy2', 'quiet1']);
      await vi.advanceTimersByTimeAsync(3000);
      expect(started).toEqual(['noisy0', 'noisy1', 'quiet0', 'noisy2', 'quiet1', 'noisy3', 'noisy4', 'noisy5']);
      await Promise.all(calls);
    } finally {
      vi.useRealTimers();
    }
  });
});
