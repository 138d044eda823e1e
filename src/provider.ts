import nodeModule from 'node:module';
import { join } from 'node:path';
import type { ProviderFlags } from './config/flags.js';
import { loadCoreApi } from './k8s/cluster.js';
import { sharedCoreApi } from './k8s/sharedCoreApi.js';
import { createMountCore } from './mount/core.js';
import { createMountHandler } from './mount/handler.js';
import { primeMountPath } from './mount/prime.js';
import { ObservabilityServer } from './observability/httpServer.js';
import { createLogger, type Logger } from './observability/logger.js';
import { ProviderMetrics } from './observability/metrics.js';
import { createSocketProbe } from './server/selfCheck.js';
import { MAX_STREAMS_PER_CONNECTION, ProviderServer } from './server/server.js';
import { readProviderVersion } from './shippedFile.js';

/**
 * The start has loaded what it loads. Node.js keeps its copy of every compile cache entry it read (the image's, ~0.8
 * MB) until exit, to compare it then; flushing now writes what changed and frees them (S3's peak read 1.5-2 MB
 * higher without this, README, Performance). Node.js before 22.10 has no flush, and nothing to free without a
 * compile cache.
 */
function releaseCompileCache(): void {
  (nodeModule as typeof nodeModule & { flushCompileCache?: () => void }).flushCompileCache?.();
}

/** Priming only saves time: a failure is logged (it names a bug, never a setting) and the provider goes on. */
async function primeOnce(flags: ProviderFlags, scripts: ProviderScripts, logger: Logger): Promise<void> {
  const started = performance.now();
  try {
    const files = await primeMountPath(flags, scripts.jmesPathWorker);
    logger.info({ files, durationMs: Math.round(performance.now() - started) }, 'mount path primed');
  } catch (err) {
    logger.warn({ error: err instanceof Error ? err.message : String(err) }, 'mount path not primed');
  }
}

export interface Provider {
  server: ProviderServer;
  logger: Logger;
  metrics: ProviderMetrics;
  /** Binds the provider socket, then the metrics/health port; resolves with both addresses. */
  start(): Promise<{ socketPath: string; metricsPort: number }>;
  /** Drains in-flight Mounts for up to `graceMs`, then closes everything. */
  close(graceMs: number): Promise<void>;
}

/** Scripts the provider starts as worker threads, located by the entry point (main.ts). */
export interface ProviderScripts {
  jmesPathWorker: URL;
}


/** Builds the provider from its flags: the Mount pipeline comes from its composition root (mount/core.ts). */
export function createProvider(
  flags: ProviderFlags,
  env: NodeJS.ProcessEnv,
  scripts: ProviderScripts,
  logger: Logger = createLogger(flags.logLevel),
): Provider {
  const { name, version } = readProviderVersion();
  const metrics = new ProviderMetrics();
  const core = createMountCore(flags, {
    coreApi: sharedCoreApi(() => loadCoreApi(flags.kubeconfig)),
    jmesPathWorker: scripts.jmesPathWorker,
    providerRegion: env.AWS_REGION || undefined,
    userAgent: `${name}/${version}${flags.eksAddonVersion ? ` eks-addon/${flags.eksAddonVersion}` : ''}`,
    appId: appId(name, version, flags.eksAddonVersion),
    metrics,
  });
  const { cluster, issuer } = core;
  const handler = createMountHandler(core.mount, { timeoutMs: flags.mountTimeoutMs, logger, metrics });
  const server = new ProviderServer({
    mount: handler,
    version: { version: 'v1alpha1', runtimeName: name, runtimeVersion: version },
    limits: {
      maxConcurrent: flags.maxConcurrentMounts,
      maxBytes: flags.maxMountBytes,
      maxRequestBytes: flags.maxRequestBytes,
      timeoutMs: flags.mountTimeoutMs,
      onDepth: (waiting) => metrics.mountsQueued.set(waiting),
      onAdmitted: (seconds) => metrics.mountQueueWait.observe(seconds),
      onExpired: (error) => {
        metrics.mounts.inc({ result: 'error', code: error.code });
        logger.warn({ result: 'error', code: error.code, error: error.message }, 'mount');
      },
    },
    connections: { idleMs: flags.maxConnectionIdleMs, maxStreams: MAX_STREAMS_PER_CONNECTION },
  });
  const socketPath = join(flags.providerVolume, 'aws.sock');
  const socketProbe = createSocketProbe(socketPath, 2000);
  const observability = new ObservabilityServer({ registry: metrics.registry, isReady: socketProbe.probe });

  return {
    server,
    logger,
    metrics,
    async start() {
      await server.listen(socketPath);
      const metricsPort = await observability.listen(flags.metricsAddr.host, flags.metricsAddr.port);
      cluster
        .warmUp()
        .then(
          (apiServerVersion) => logger.info({ apiServerVersion }, 'kubernetes client ready'),
          (err: unknown) => {
            // Not fatal: a Mount whose SecretProviderClass needs no lookup still works, the others say why they fail.
            logger.error({ error: err instanceof Error ? err.message : String(err) }, 'kubernetes client not ready');
          },
        )
        // The issuer's keys before the first pod needs them; a failure is the first Mount's to report, with its fix.
        .then(() => issuer.keysFor(undefined))
        .then(
          ({ issuer: name, keys }) => logger.info({ issuer: name, keys: keys.length }, 'service account issuer read'),
          (err: unknown) =>
            logger.warn({ error: err instanceof Error ? err.message : String(err) }, 'service account issuer not read'),
        )
        .then(() => primeOnce(flags, scripts, logger))
        .finally(releaseCompileCache);
      return { socketPath, metricsPort };
    },
    async close(graceMs) {
      await server.close(graceMs);
      socketProbe.close();
      await observability.close();
      await core.close();
    },
  };
}

/**
 * The SDK app id. As the EKS add-on (--eks-addon-version) it is ASCP's, `secrets-store-csi-driver-provider-aws:<add-on
 * version>`, which AWS counts the add-on's calls by; otherwise this provider's own name and version.
 */
function appId(name: string, version: string, eksAddonVersion: string): string {
  return eksAddonVersion ? `secrets-store-csi-driver-provider-aws:${eksAddonVersion}` : `${name}:${version}`;
}
