import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every metric of the provider, on a registry of its own (no global state). Labels carry codes, services,
 * actions, regions and outcomes: all bounded sets. Object names never become labels, since a cluster can hold
 * any number of them and they can themselves be sensitive.
 */
export class ProviderMetrics {
  readonly registry = new Registry();

  readonly mounts = new Counter({
    name: 'aws_provider_mounts_total',
    help: 'Mount requests by result (ok, error) and error code',
    labelNames: ['result', 'code'] as const,
    registers: [this.registry],
  });

  readonly mountDuration = new Histogram({
    name: 'aws_provider_mount_duration_seconds',
    help: 'Duration of Mount requests by result',
    labelNames: ['result'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  readonly mountsInFlight = new Gauge({
    name: 'aws_provider_mounts_in_flight',
    help: 'Mount requests being served',
    registers: [this.registry],
  });

  readonly awsCalls = new Counter({
    name: 'aws_provider_aws_api_calls_total',
    help: 'AWS API calls (after the SDK retries) by service, action, region and outcome',
    labelNames: ['service', 'action', 'region', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly awsRetries = new Counter({
    name: 'aws_provider_aws_api_retries_total',
    help: 'Extra attempts the SDK made for AWS API calls, by service, action and region',
    labelNames: ['service', 'action', 'region'] as const,
    registers: [this.registry],
  });

  readonly failovers = new Counter({
    name: 'aws_provider_failovers_total',
    help: 'Objects fetched from the failover region because the primary region was unhealthy',
    labelNames: ['region', 'failover_region'] as const,
    registers: [this.registry],
  });

  readonly credentialFetches = new Counter({
    name: 'aws_provider_credential_fetches_total',
    help: 'Credential fetches from STS or the EKS Pod Identity agent, by kind and outcome',
    labelNames: ['kind', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly cacheRequests = new Counter({
    name: 'aws_provider_cache_requests_total',
    help: 'Cache lookups by cache and result (hit, miss)',
    labelNames: ['cache', 'result'] as const,
    registers: [this.registry],
  });

  readonly kubernetesCalls = new Counter({
    name: 'aws_provider_kubernetes_api_calls_total',
    help: 'Kubernetes API calls by resource and outcome',
    labelNames: ['resource', 'outcome'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
