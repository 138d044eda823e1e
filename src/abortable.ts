/** The error an aborted wait rejects with: named like the SDK's, so callers classify it as our own deadline. */
export function abortError(signal: AbortSignal): Error {
  const error = new Error('Request aborted', { cause: signal.reason });
  error.name = 'AbortError';
  return error;
}

/**
 * Waits for `promise` until `signal` aborts. The work behind the promise goes on (others may share it); only
 * this caller stops waiting.
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    if (signal.aborted) {
      onAbort();
      promise.catch(() => undefined);
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export interface TimedSignal {
  signal: AbortSignal;
  /** Clears the timer and the link to the outer signal: call it when the work is over, however it ended. */
  done(): void;
}

/**
 * `outer` or `timeoutMs` passing, whichever comes first; a timeout aborts with a TimeoutError, as
 * AbortSignal.timeout() does. Not AbortSignal.any([outer, AbortSignal.timeout(ms)]): Node 20 holds a timeout signal
 * only weakly, nothing else holds it inside any(), and a garbage collection during the wait drops it, so the timeout
 * never fires (nodejs/node#57736; Node 22 and 24 keep it). The Pod Identity timeout test caught it on Node 20.
 */
export function withTimeout(outer: AbortSignal, timeoutMs: number): TimedSignal {
  const controller = new AbortController();
  const onAbort = () => controller.abort(outer.reason);
  if (outer.aborted) onAbort();
  else outer.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(
    () => controller.abort(new DOMException(`timed out after ${timeoutMs} ms`, 'TimeoutError')),
    timeoutMs,
  );
  return {
    signal: controller.signal,
    done() {
      clearTimeout(timer);
      outer.removeEventListener('abort', onAbort);
    },
  };
}
