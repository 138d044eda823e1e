/**
 * Which Mounts may run now: at most `maxConcurrent` at once, and at most `maxBytes` of request bytes among them. A
 * Mount that does not fit waits its turn, first come first served. The server asks before it reads a request off the
 * socket (see server.ts): a waiting Mount's bytes stay in the client's HTTP/2 flow-control window, not in this process.
 */

export interface AdmissionOptions {
  maxConcurrent: number;
  maxBytes: number;
  /**
   * What a Mount is charged before its request is read, since its size is not known yet: the largest request the
   * server accepts. Once read, its charge becomes its real size (Ticket.resize).
   */
  unreadBytes: number;
  /** Told of every change of the number of waiting Mounts: where the queue-depth metric plugs in. */
  onDepth?: (waiting: number) => void;
}

/** A Mount's place among the running ones; release it however the Mount ends (twice is harmless). */
export interface Ticket {
  resize(bytes: number): void;
  release(): void;
}

interface Waiter {
  admit(ticket: Ticket): void;
}

export class Admission {
  private running = 0;
  private bytes = 0;
  /** Insertion-ordered, so the first entry is the longest waiting; a Set drops a cancelled waiter in O(1). */
  private readonly waiting = new Set<Waiter>();

  constructor(private readonly options: AdmissionOptions) {}

  get queued(): number {
    return this.waiting.size;
  }

  get inFlightBytes(): number {
    return this.bytes;
  }

  /**
   * Resolves with a ticket once the Mount may run; rejects with the signal's reason if it aborts first (the Mount's
   * deadline, or the driver cancelling it), and the Mount leaves the queue.
   */
  enter(signal: AbortSignal): Promise<Ticket> {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    if (this.waiting.size === 0 && this.fits(this.options.unreadBytes)) return Promise.resolve(this.take());
    return new Promise<Ticket>((resolve, reject) => {
      const waiter: Waiter = {
        admit: (ticket) => {
          signal.removeEventListener('abort', onAbort);
          resolve(ticket);
        },
      };
      const onAbort = () => {
        this.waiting.delete(waiter);
        this.options.onDepth?.(this.waiting.size);
        reject(signal.reason as Error);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.add(waiter);
      this.options.onDepth?.(this.waiting.size);
    });
  }

  /** One Mount alone always fits, whatever its size, so a budget below the largest request cannot stall the queue. */
  private fits(bytes: number): boolean {
    return this.running === 0 || (this.running < this.options.maxConcurrent && this.bytes + bytes <= this.options.maxBytes);
  }

  private take(): Ticket {
    let charge = this.options.unreadBytes;
    let released = false;
    this.running += 1;
    this.bytes += charge;
    return {
      resize: (bytes) => {
        if (released) return;
        this.bytes += bytes - charge;
        charge = bytes;
        this.admitWaiting();
      },
      release: () => {
        if (released) return;
        released = true;
        this.running -= 1;
        this.bytes -= charge;
        this.admitWaiting();
      },
    };
  }

  private admitWaiting(): void {
    let admitted = false;
    for (const waiter of this.waiting) {
      if (!this.fits(this.options.unreadBytes)) break;
      this.waiting.delete(waiter);
      waiter.admit(this.take());
      admitted = true;
    }
    if (admitted) this.options.onDepth?.(this.waiting.size);
  }
}
