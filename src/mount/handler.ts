import { asProviderError, isProviderError, ProviderError, statusName } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { ProviderMetrics } from '../observability/metrics.js';
import type { MountHandler } from '../server/server.js';
import type { MountRequestMessage } from '../server/proto.js';
import type { MountOutcome } from './mount.js';

export interface MountHandlerOptions {
  /** Our own deadline, below kubelet's 2 minutes, so a slow AWS answer fails cleanly instead of hanging. */
  timeoutMs: number;
  logger: Logger;
  metrics: ProviderMetrics;
}

/** Wraps the Mount pipeline with its deadline and the one log line every Mount gets. */
export function createMountHandler(
  mount: (request: MountRequestMessage, signal: AbortSignal) => Promise<MountOutcome>,
  options: MountHandlerOptions,
): MountHandler {
  return async (request, callSignal, waitedMs) => {
    const started = performance.now();
    // One controller and a timer cleared when the Mount ends: AbortSignal.timeout() + AbortSignal.any() keep every
    // Mount's signal (and what listens to it) alive until the timeout fires, which under load is tens of thousands.
    // The deadline runs from the Mount's arrival: the time it waited for its turn (server/mountGate.ts) is spent.
    const controller = new AbortController();
    let deadlinePassed = false;
    const timer = setTimeout(
      () => {
        deadlinePassed = true;
        controller.abort(new Error(`the Mount deadline of ${options.timeoutMs} ms passed`));
      },
      Math.max(0, options.timeoutMs - waitedMs),
    );
    const onCancel = () => controller.abort(callSignal.reason);
    callSignal.addEventListener('abort', onCancel, { once: true });
    const signal = controller.signal;
    const { metrics } = options;
    metrics.mountsInFlight.inc();
    try {
      const outcome = await mount(request, signal);
      const seconds = (performance.now() - started) / 1000;
      // Recorded once the answer is on its way: when a storm's Mounts share one fetch, they all finish together, and
      // a hundred metric updates and log lines written first held the last pod's answer back by 5-8 ms.
      setImmediate(() => recordSuccess(outcome, seconds, options));
      return outcome.response;
    } catch (err) {
      const error = deadlinePassed
        ? deadlineExceeded(options.timeoutMs, err)
        : callSignal.aborted
          ? cancelled(callSignal.reason, err)
          : asProviderError(err);
      metrics.mounts.inc({ result: 'error', code: error.code });
      metrics.mountDuration.observe({ result: 'error' }, (performance.now() - started) / 1000);
      options.logger.warn(
        {
          ...podOf(request),
          durationMs: Math.round(performance.now() - started),
          result: 'error',
          code: error.code,
          grpcStatus: statusName(error.grpcStatus),
          error: error.message,
        },
        'mount',
      );
      throw error;
    } finally {
      clearTimeout(timer);
      callSignal.removeEventListener('abort', onCancel);
      metrics.mountsInFlight.dec();
    }
  };
}

function recordSuccess(outcome: MountOutcome, seconds: number, { metrics, logger }: MountHandlerOptions): void {
  metrics.mounts.inc({ result: 'ok', code: '' });
  metrics.mountDuration.observe({ result: 'ok' }, seconds);
  for (const [failoverRegion, objects] of outcome.failedOver) {
    metrics.failovers.inc({ region: outcome.region, failover_region: failoverRegion }, objects);
  }
  const pod = { namespace: outcome.config.pod.namespace, pod: outcome.config.pod.name };
  const { warnings } = outcome.config;
  if (warnings.length > 0) logger.warn({ ...pod, warnings }, 'secretproviderclass');
  if (outcome.source === 'stale') {
    // AWS throttles the region: the pod keeps files older than --rotation-cache-ttl until a re-publish gets through.
    logger.warn({ ...pod, region: outcome.region, ageMs: Math.round(outcome.ageMs ?? 0) }, 'republish served stale');
  }
  logger.info(
    {
      ...pod,
      region: outcome.region,
      objects: outcome.config.objects.length,
      files: outcome.response.files.length,
      failedOver: [...outcome.failedOver.values()].reduce((sum, n) => sum + n, 0),
      kind: outcome.kind,
      answer: outcome.source,
      durationMs: Math.round(seconds * 1000),
      result: 'ok',
    },
    'mount',
  );
}

function deadlineExceeded(timeoutMs: number, cause: unknown): ProviderError {
  const during = isProviderError(cause) ? ` (last error: ${cause.message})` : '';
  return new ProviderError(
    'DeadlineExceeded',
    `the Mount did not finish within ${timeoutMs} ms (--mount-timeout)${during}; AWS or the Kubernetes API is ` +
      `too slow to answer`,
    { cause },
  );
}

/** The driver went away or the provider is draining: UNAVAILABLE, which the driver retries (here or elsewhere). */
function cancelled(reason: unknown, cause: unknown): ProviderError {
  const why = reason instanceof Error ? reason.message : 'the Mount was cancelled';
  return new ProviderError('Cancelled', `the Mount was stopped before it finished: ${why}`, { cause });
}

/** Best effort, for a failed Mount's log line: the attributes may be the malformed part of the request. */
function podOf(request: MountRequestMessage): { namespace?: string; pod?: string } {
  try {
    const attributes = JSON.parse(request.attributes) as Record<string, unknown>;
    const namespace = attributes['csi.storage.k8s.io/pod.namespace'];
    const pod = attributes['csi.storage.k8s.io/pod.name'];
    return {
      namespace: typeof namespace === 'string' ? namespace : undefined,
      pod: typeof pod === 'string' ? pod : undefined,
    };
  } catch {
    return {};
  }
}
