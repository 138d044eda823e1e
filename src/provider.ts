import { AwsClientPool } from './aws/clients.js';
import { BatchSupportStore } from './aws/secretsManager.js';
import { IrsaResolver } from './auth/irsa.js';
import { PodIdentityResolver } from './auth/podIdentity.js';
import type { ProviderFlags } from './config/flags.js';
import { KubeClusterReader, loadKubeConfig } from './k8s/cluster.js';
import { createMountHandler } from './mount/handler.js';
import { createLogger, type Logger } from './observability/logger.js';
import { ProviderServer } from './server/server.js';
import { readProviderVersion } from './shippedFile.js';

export interface Provider {
  server: ProviderServer;
  logger: Logger;
  close(graceMs: number): Promise<void>;
}

/** Builds the provider from its flags: every cache and client is created here once and passed down. */
export function createProvider(
  flags: ProviderFlags,
  env: NodeJS.ProcessEnv,
  logger: Logger = createLogger(flags.logLevel),
): Provider {
  const { name, version } = readProviderVersion();
  const cluster = new KubeClusterReader(loadKubeConfig(flags.kubeconfig), {
    serviceAccountTtlMs: flags.serviceAccountCacheTtlMs,
    maxEntries: 10_000,
  });
  const pool = new AwsClientPool({
    userAgent: `${name}/${version}${flags.eksAddonVersion ? ` eks-addon/${flags.eksAddonVersion}` : ''}`,
  });
  const handler = createMountHandler(
    {
      cluster,
      irsa: new IrsaResolver(cluster),
      podIdentity: new PodIdentityResolver({
        ipv4Endpoint: flags.podIdentityEndpointIpv4,
        ipv6Endpoint: flags.podIdentityEndpointIpv6,
        timeoutMs: flags.podIdentityHttpTimeoutMs,
      }),
      pool,
      batchSupport: new BatchSupportStore(),
      providerRegion: env.AWS_REGION || undefined,
      fetchConcurrency: flags.fetchConcurrency,
    },
    { timeoutMs: flags.mountTimeoutMs, logger },
  );
  const server = new ProviderServer({
    mount: handler,
    version: { version: 'v1alpha1', runtimeName: name, runtimeVersion: version },
  });
  return {
    server,
    logger,
    async close(graceMs) {
      await server.close(graceMs);
      pool.destroy();
    },
  };
}
