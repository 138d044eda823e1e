/**
 * Client-side rate limit for Kubernetes API calls, with the meaning of client-go's --qps/--burst: up to `burst`
 * calls at once, refilled at `qps` per second. Waiting callers are served in turn by key (the namespace of the pod
 * asking), oldest first within a key: one namespace's storm of lookups cannot make another's wait behind all of it.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  /** By key, in the order keys take their turn; a key whose caller was served moves to the end. */
  private readonly waiting = new Map<string, Array<() => void>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly qps: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** Runs `call` once a token is free and it is `key`'s turn. */
  async run<T>(call: () => Promise<T>, key = ''): Promise<T> {
    await this.take(key);
    return call();
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
  }

  private take(key: string): Promise<void> {
    this.refill();
    if (this.waiting.size === 0 && this.tokens >= 1) {
      this.tokens -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const queue = this.waiting.get(key);
      if (queue) queue.push(resolve);
      else this.waiting.set(key, [resolve]);
      this.schedule();
    });
  }

  /** The caller whose turn it is: the oldest of the key that waited longest for its turn. */
  private next(): (() => void) | undefined {
    for (const [key, queue] of this.waiting) {
      this.waiting.delete(key);
      const first = queue.shift();
      if (queue.length > 0) this.waiting.set(key, queue);
      return first;
    }
    return undefined;
  }

  private schedule(): void {
    if (this.timer) return;
    const wait = Math.max(0, ((1 - this.tokens) / this.qps) * 1000);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.refill();
      while (this.waiting.size > 0 && this.tokens >= 1) {
        this.tokens -= 1;
        this.next()?.();
      }
      if (this.waiting.size > 0) this.schedule();
    }, wait);
  }
}
