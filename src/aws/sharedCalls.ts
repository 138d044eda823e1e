import { abortError } from '../abortable.js';

interface Flight {
  promise: Promise<unknown>;
  controller: AbortController;
  /** Callers still waiting; the call is aborted when the last one gives up. */
  waiters: number;
}

/**
 * Identical AWS calls in flight at once run once: the first caller starts the call, later callers with the same
 * key wait for the same answer. One instance serves one identity in one region (AwsClientPool holds it next to
 * that identity's clients), so an answer is only ever shared between Mounts of the same identity.
 */
export class SharedCalls {
  private readonly inFlight = new Map<string, Flight>();

  /**
   * `key` names the call exactly (action and every parameter). `call` gets a signal that aborts only when every
   * waiting caller's `signal` has aborted; a caller whose signal aborts stops waiting at once.
   */
  run<T>(key: string, call: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    let flight = this.inFlight.get(key);
    if (flight === undefined) {
      const controller = new AbortController();
      const started: Flight = {
        promise: (async () => call(controller.signal))().finally(() => this.forget(key, started)),
        controller,
        waiters: 0,
      };
      this.inFlight.set(key, (flight = started));
    }
    const joined = flight;
    joined.waiters++;
    const answer = joined.promise as Promise<T>;
    if (signal === undefined) return answer;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        reject(abortError(signal));
        if (--joined.waiters === 0) {
          this.forget(key, joined);
          joined.controller.abort(signal.reason);
        }
      };
      signal.addEventListener('abort', onAbort, { once: true });
      answer.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  /** Calls in flight, for tests and metrics. */
  get size(): number {
    return this.inFlight.size;
  }

  private forget(key: string, flight: Flight): void {
    if (this.inFlight.get(key) === flight) this.inFlight.delete(key);
  }
}

/** The key of a planned call: its action and parameters, as JSON (undefined fields dropped). */
export function callKey(action: string, parameters: unknown): string {
  return JSON.stringify([action, parameters]);
}
