import { parseArgs } from 'node:util';
import { parseGoDuration } from './duration.js';

export interface ProviderFlags {
  providerVolume: string;
  driverWritesSecrets: boolean;
  qps: number;
  burst: number;
  eksAddonVersion: string;
  podIdentityHttpTimeoutMs: number | undefined;
  podIdentityEndpointIpv4: string;
  podIdentityEndpointIpv6: string;
  kubeconfig: string | undefined;
  logLevel: string;
  mountTimeoutMs: number;
  shutdownGraceMs: number;
  fetchConcurrency: number;
  serviceAccountCacheTtlMs: number;
  serviceAccountCacheSize: number;
  credentialCacheSize: number;
  credentialCacheNamespaceSize: number;
  credentialRefreshMarginMs: number;
  metricsAddr: { host: string; port: number };
  awsRetryMode: 'standard' | 'adaptive';
  awsMaxAttempts: number;
  awsRequestTimeoutMs: number;
  /** STS endpoint by region; a region not listed uses the SDK's (AWS_ENDPOINT_URL_STS, else sts.<region>.amazonaws.com). */
  stsEndpoints: Readonly<Record<string, string>>;
  jmesPathTimeoutMs: number;
  maxConcurrentMounts: number;
  maxMountBytes: number;
  maxRequestBytes: number;
  maxAnswerBytes: number;
  maxObjects: number;
  maxFilesPerEntry: number;
  maxConnectionIdleMs: number;
  rotationCacheTtlMs: number;
  rotationCacheGraceMs: number;
  rotationCacheBytes: number;
  throttleWaitMs: number;
  help: boolean;
  version: boolean;
}

/** Every flag, with its default and the line `--help` prints. ASCP's flags come first and keep their meaning. */
export const FLAGS = {
  'provider-volume': { type: 'string', default: '/var/run/secrets-store-csi-providers', help: 'directory of the provider socket (aws.sock); the driver\'s --provider-volume' },
  'driver-writes-secrets': { type: 'boolean', default: false, help: 'accepted for ASCP compatibility; the provider always returns the files for the driver to write' },
  qps: { type: 'string', default: '5', help: 'Kubernetes API calls per second (ServiceAccount, Pod and Node lookups)' },
  burst: { type: 'string', default: '10', help: 'Kubernetes API burst above --qps' },
  'eks-addon-version': { type: 'string', default: '', help: 'EKS add-on version, added to the AWS user agent' },
  'pod-identity-http-timeout': { type: 'string', default: '', help: 'timeout of one call to the EKS Pod Identity agent, as a Go duration (e.g. 250ms); empty = the mount deadline' },
  'pod-identity-endpoint-ipv4': { type: 'string', default: 'http://169.254.170.23/v1/credentials', help: 'EKS Pod Identity agent URL over IPv4' },
  'pod-identity-endpoint-ipv6': { type: 'string', default: 'http://[fd00:ec2::23]/v1/credentials', help: 'EKS Pod Identity agent URL over IPv6' },
  kubeconfig: { type: 'string', default: '', help: 'kubeconfig file; empty = in-cluster config (or $KUBECONFIG)' },
  'log-level': { type: 'string', default: 'info', help: 'trace, debug, info, warn, error or fatal' },
  'log-format-json': { type: 'boolean', default: true, help: 'accepted for ASCP compatibility; logs are JSON lines' },
  'mount-timeout': { type: 'string', default: '60s', help: 'deadline of one Mount, below kubelet\'s 2 minutes; outstanding AWS calls are cancelled' },
  'shutdown-grace': { type: 'string', default: '20s', help: 'on SIGTERM, how long in-flight Mounts may finish before they are cancelled' },
  'fetch-concurrency': { type: 'string', default: '16', help: 'AWS calls one Mount may have in flight at once' },
  'serviceaccount-cache-ttl': { type: 'string', default: '30s', help: 'how long a ServiceAccount\'s role annotation is cached' },
  'serviceaccount-cache-size': { type: 'string', default: '10000', help: 'ServiceAccounts (and nodes) whose lookup is cached at most; the least recently used is dropped' },
  'credential-cache-size': { type: 'string', default: '1000', help: 'identities (namespace, service account, auth kind, role, chained role) whose AWS credentials are cached at most' },
  'credential-cache-namespace-size': { type: 'string', default: '100', help: 'identities of one namespace whose AWS credentials are cached at most; past it that namespace\'s least recently used is dropped, not another namespace\'s' },
  'credential-refresh-margin': { type: 'string', default: '5m', help: 'cached AWS credentials are used until this long before they expire, then obtained afresh' },
  'aws-retry-mode': { type: 'string', default: 'standard', help: 'AWS SDK retry strategy: standard (jittered exponential backoff) or adaptive (adds client-side rate limiting when throttled)' },
  'aws-max-attempts': { type: 'string', default: '3', help: 'attempts per AWS call, the first included' },
  'aws-request-timeout': { type: 'string', default: '10s', help: 'limit of one AWS request attempt; a slower answer is retried, then failed over' },
  'throttle-wait': { type: 'string', default: '45s', help: 'a first mount whose AWS calls are still throttled after the SDK\'s retries sends them again, with the SDK\'s throttling backoff, for this long at most (within --mount-timeout); 0 = fail at once' },
  'sts-endpoints': { type: 'string', default: '', help: 'STS endpoint per region, as region=URL,… (each region\'s STS VPC endpoint, say); a region not listed uses the SDK\'s: AWS_ENDPOINT_URL_STS, else sts.<region>.amazonaws.com' },
  'jmespath-timeout': { type: 'string', default: '2s', help: 'how long the jmesPath entries of one Mount may take to evaluate; past it the Mount fails as InvalidSecretProviderClass' },
  'max-concurrent-mounts': { type: 'string', default: '128', help: 'Mounts served at once; the rest wait their turn, first come first served, within --mount-timeout' },
  'max-mount-bytes': { type: 'string', default: '64Mi', help: 'request bytes of the Mounts served at once (a request not yet read counts as --max-request-size); the rest wait their turn' },
  'max-request-size': { type: 'string', default: '3Mi', help: 'largest MountRequest read (a SecretProviderClass at etcd\'s 1.5 MiB object limit, JSON-escaped in the attributes); a larger one fails with RESOURCE_EXHAUSTED' },
  'max-answer-size': { type: 'string', default: '4Mi', help: 'largest encoded answer: set it to the driver\'s --max-call-recv-msg-size; a larger Mount fails naming its largest files' },
  'max-objects': { type: 'string', default: '256', help: 'objects one SecretProviderClass may list, which bounds the AWS calls of one Mount' },
  'max-files-per-entry': { type: 'string', default: '100', help: 'files one objects entry with a wildcard objectName or jsonKeys may write; past it the Mount fails' },
  'max-connection-idle': { type: 'string', default: '30s', help: 'a socket connection with no call for this long is closed; the driver dials again on its next call' },
  'rotation-cache-ttl': { type: 'string', default: '2m', help: 'a rotation re-publish within this long of a fetch of the same objects by the same identity is answered from that fetch (0 = never); adds at most this much to rotation latency' },
  'rotation-cache-grace': { type: 'string', default: '10m', help: 'while AWS throttles the region, re-publishes are answered from answers up to --rotation-cache-ttl plus this old, leaving the quota to first mounts' },
  'rotation-cache-size': { type: 'string', default: '32Mi', help: 'bytes of answers kept for re-publishes at most; the least recently used is dropped' },
  'metrics-addr': { type: 'string', default: ':8989', help: 'HTTP address of /metrics (Prometheus), /healthz and /readyz; ":8989" = every interface' },
  help: { type: 'boolean', default: false, help: 'print this help' },
  version: { type: 'boolean', default: false, help: 'print the version' },
} as const;

export function usage(): string {
  const shown = Object.entries(FLAGS).map(([name, flag]) =>
    flag.type === 'boolean' ? `--${name}` : `--${name}=${flag.default === '' ? '…' : flag.default}`,
  );
  const width = Math.max(...shown.map((text) => text.length)) + 2;
  const lines = Object.values(FLAGS).map((flag, i) => `  ${shown[i]?.padEnd(width)}${flag.help}`);
  return ['Usage: aws-secrets-csi-provider [flags]', '', ...lines, ''].join('\n');
}

/**
 * Go's flag package, which ASCP's manifests were written for, takes `-flag`, `--flag=value` and `--flag=true`;
 * rewrite those forms into what node:util's parseArgs reads.
 */
function normalizeGoStyle(args: string[]): string[] {
  return args.flatMap((arg) => {
    const long = /^-[a-z]/.test(arg) && arg.length > 2 ? `-${arg}` : arg;
    const boolean = /^--([a-z-]+)=(true|false)$/i.exec(long);
    if (boolean && FLAGS[boolean[1] as keyof typeof FLAGS]?.type === 'boolean') {
      return boolean[2]?.toLowerCase() === 'true' ? [`--${boolean[1]}`] : [];
    }
    return [long];
  });
}

function positiveNumber(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number, got "${text}"`);
  return value;
}

function duration(name: string, text: string): number {
  try {
    return parseGoDuration(text);
  } catch (err) {
    throw new Error(`--${name}: ${(err as Error).message}`);
  }
}

const BINARY_UNITS: Record<string, number> = { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };

/** Bytes as Kubernetes quantities write them (`1536Ki`, `4Mi`) or a plain number. */
function byteSize(name: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi)?$/.exec(text);
  const bytes = match ? Math.floor(Number(match[1]) * (BINARY_UNITS[match[2] ?? ''] ?? Number.NaN)) : Number.NaN;
  if (bytes > 0) return bytes;
  throw new Error(`--${name} must be a size in bytes like 4194304, 1536Ki or 4Mi, got "${text}"`);
}

function retryMode(text: string): 'standard' | 'adaptive' {
  if (text === 'standard' || text === 'adaptive') return text;
  throw new Error(`--aws-retry-mode must be standard or adaptive, got "${text}"`);
}

/** `host:port`, `:port` (every interface) or `[::1]:port`, as Go's net.Listen takes it. */
function listenAddress(name: string, text: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (!match || port > 65535) throw new Error(`--${name} must look like :8989 or 127.0.0.1:8989, got "${text}"`);
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
}

/** `us-east-1=https://…,us-west-2=https://…`: one http(s) URL per region name. */
function endpointsByRegion(name: string, text: string): Readonly<Record<string, string>> {
  const endpoints: Record<string, string> = {};
  for (const entry of text.split(',').filter((part) => part.trim() !== '')) {
    const [region = '', url = ''] = entry.trim().split(/=(.*)/s, 2);
    if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region) || !URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
      throw new Error(`--${name} takes region=URL pairs like us-east-1=https://sts.us-east-1.amazonaws.com, got "${entry}"`);
    }
    if (region in endpoints) throw new Error(`--${name} names ${region} twice`);
    endpoints[region] = url;
  }
  return Object.freeze(endpoints);
}

export function parseFlags(args: string[]): ProviderFlags {
  const options = Object.fromEntries(
    Object.entries(FLAGS).map(([name, flag]) => [name, { type: flag.type, default: flag.default }]),
  ) as { [K in keyof typeof FLAGS]: { type: (typeof FLAGS)[K]['type']; default: (typeof FLAGS)[K]['default'] } };
  const { values } = parseArgs({ args: normalizeGoStyle(args), options, strict: true, allowPositionals: false });
  const timeout = values['pod-identity-http-timeout'];
  return {
    providerVolume: values['provider-volume'],
    driverWritesSecrets: values['driver-writes-secrets'],
    qps: positiveNumber('qps', values.qps),
    burst: positiveNumber('burst', values.burst),
    eksAddonVersion: values['eks-addon-version'],
    podIdentityHttpTimeoutMs: timeout ? duration('pod-identity-http-timeout', timeout) : undefined,
    podIdentityEndpointIpv4: values['pod-identity-endpoint-ipv4'],
    podIdentityEndpointIpv6: values['pod-identity-endpoint-ipv6'],
    kubeconfig: values.kubeconfig || undefined,
    logLevel: values['log-level'],
    mountTimeoutMs: duration('mount-timeout', values['mount-timeout']),
    shutdownGraceMs: duration('shutdown-grace', values['shutdown-grace']),
    fetchConcurrency: Math.floor(positiveNumber('fetch-concurrency', values['fetch-concurrency'])),
    serviceAccountCacheTtlMs: duration('serviceaccount-cache-ttl', values['serviceaccount-cache-ttl']),
    serviceAccountCacheSize: Math.floor(positiveNumber('serviceaccount-cache-size', values['serviceaccount-cache-size'])),
    credentialCacheSize: Math.floor(positiveNumber('credential-cache-size', values['credential-cache-size'])),
    credentialCacheNamespaceSize: Math.floor(
      positiveNumber('credential-cache-namespace-size', values['credential-cache-namespace-size']),
    ),
    credentialRefreshMarginMs: duration('credential-refresh-margin', values['credential-refresh-margin']),
    metricsAddr: listenAddress('metrics-addr', values['metrics-addr']),
    awsRetryMode: retryMode(values['aws-retry-mode']),
    awsMaxAttempts: Math.floor(positiveNumber('aws-max-attempts', values['aws-max-attempts'])),
    awsRequestTimeoutMs: duration('aws-request-timeout', values['aws-request-timeout']),
    throttleWaitMs: duration('throttle-wait', values['throttle-wait']),
    stsEndpoints: endpointsByRegion('sts-endpoints', values['sts-endpoints']),
    jmesPathTimeoutMs: duration('jmespath-timeout', values['jmespath-timeout']),
    maxConcurrentMounts: Math.floor(positiveNumber('max-concurrent-mounts', values['max-concurrent-mounts'])),
    maxMountBytes: byteSize('max-mount-bytes', values['max-mount-bytes']),
    maxRequestBytes: byteSize('max-request-size', values['max-request-size']),
    maxAnswerBytes: byteSize('max-answer-size', values['max-answer-size']),
    maxObjects: Math.floor(positiveNumber('max-objects', values['max-objects'])),
    maxFilesPerEntry: Math.floor(positiveNumber('max-files-per-entry', values['max-files-per-entry'])),
    maxConnectionIdleMs: positiveNumber('max-connection-idle', String(duration('max-connection-idle', values['max-connection-idle']))),
    rotationCacheTtlMs: duration('rotation-cache-ttl', values['rotation-cache-ttl']),
    rotationCacheGraceMs: duration('rotation-cache-grace', values['rotation-cache-grace']),
    rotationCacheBytes: byteSize('rotation-cache-size', values['rotation-cache-size']),
    help: values.help,
    version: values.version,
  };
}

/** What every flag is when not given: the one source of defaults for code built without the provider's flags. */
export const FLAG_DEFAULTS: Readonly<ProviderFlags> = Object.freeze(parseFlags([]));
