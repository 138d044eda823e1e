import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type CounterConfiguration, type LabelValues } from 'prom-client';
import { regionLabel } from '../config/regions.js';

const REGION_LABELS: ReadonlySet<string> = new Set(['region', 'failover_region']);

/**
 * A counter whose region labels only take regions the AWS SDK lists, anything else `other`: a region comes from a
 * SecretProviderClass, and each distinct value would be a series kept for the life of the process.
 */
class RegionCounter<T extends string> extends Counter<T> {
  constructor(configuration: CounterConfiguration<T>) {
    super(configuration);
    // prom-client sets `inc` on the instance in its constructor, so it is wrapped here rather than overridden.
    // These counters have no exemplars: `inc` takes labels and a value, or a value.
    const inc = this.inc.bind(this) as (labels?: LabelValues<T> | number, value?: number) => void;
    this.inc = ((labels?: LabelValues<T> | number, value?: number) =>
      typeof labels === 'object' ? inc(knownRegions(labels), value) : inc(labels)) as Counter<T>['inc'];
  }
}

function knownRegions<T extends string>(labels: LabelValues<T>): LabelValues<T> {
  return Object.fromEntries(
    Object.entries(labels).map(([name, label]) => [name, REGION_LABELS.has(name) ? regionLabel(String(label)) : label]),
  ) as LabelValues<T>;
}

/**
 * Every metric of the provider, on a registry of its own (no global state). Labels carry codes, services,
 * actions, known regions and outcomes: all bounded sets. Object names never become labels, since a cluster can hold
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

  readonly mountsQueued = new Gauge({
    name: 'aws_provider_mounts_queued',
    help: 'Mount requests waiting for their turn (--max-concurrent-mounts, --max-mount-bytes)',
    registers: [this.registry],
  });

  readonly mountQueueWait = new Histogram({
    name: 'aws_provider_mount_queue_wait_seconds',
    help: 'How long Mount requests waited for their turn before being read',
    buckets: [0.001, 0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  readonly awsCalls = new RegionCounter({
    name: 'aws_provider_aws_api_calls_total',
    help: 'AWS API calls (after the SDK retries) by service, action, region and outcome',
    labelNames: ['service', 'action', 'region', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly awsRetries = new RegionCounter({
    name: 'aws_provider_aws_api_retries_total',
    help: 'Extra attempts the SDK made for AWS API calls, by service, action and region',
    labelNames: ['service', 'action', 'region'] as const,
    registers: [this.registry],
  });

  readonly failovers = new RegionCounter({
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

  readonly answers = new Counter({
    name: 'aws_provider_answer_cache_requests_total',
    help: 'Mounts by kind (first, republish) and how they were answered: miss (fetched), hit (a fetch younger than --rotation-cache-ttl), stale (past it, while AWS throttles the region), deferred (past the grace while AWS throttles the region: no call, the pod keeps its files)',
    labelNames: ['kind', 'result'] as const,
    registers: [this.registry],
  });

  readonly throttles = new RegionCounter({
    name: 'aws_provider_aws_api_throttles_total',
    help: 'AWS API attempts throttled by AWS (retried ones included), by service, action and region',
    labelNames: ['service', 'action', 'region'] as const,
    registers: [this.registry],
  });

  readonly strategySwitches = new RegionCounter({
    name: 'aws_provider_fetch_strategy_switches_total',
    help: 'Switches of the Secrets Manager call used for current versions (to GetSecretValue when BatchGetSecretValue is throttled, back after the cool-down)',
    labelNames: ['region', 'to'] as const,
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
