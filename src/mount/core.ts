/**
 * The composition root of the Mount: every cache, client pool, coalescer, resolver and verifier a Mount uses is built
 * here, once per pipeline, from the provider's settings and its edges (where Kubernetes and AWS are reached). The
 * provider builds one for its pods (src/provider.ts) and priming another, answered inside the process
 * (src/mount/prime.ts): nothing one of them remembers is seen by the other.
 */
import { AwsClientPool } from '../aws/clients.js';
import type { InProcessHandler } from '../aws/inProcessAnswers.js';
import { BatchSupportStore } from '../aws/secretsManager.js';
import { SharedCalls } from '../aws/sharedCalls.js';
import { RegionThrottling } from '../aws/throttling.js';
import { RoleChainer } from '../auth/assumeRole.js';
import { CredentialCache } from '../auth/credentialCache.js';
import type { IdentitySource } from '../auth/identity.js';
import { IrsaResolver } from '../auth/irsa.js';
import { PodIdentityResolver } from '../auth/podIdentity.js';
import { CachingIdentityResolver } from '../auth/resolver.js';
import { StsClients } from '../auth/stsClients.js';
import { TokenVerifier } from '../auth/tokenVerifier.js';
import type { ProviderFlags } from '../config/flags.js';
import { ObjectsCache } from '../config/objectsCache.js';
import { JMESPATH_LIMITS, JmesPathWorkers } from '../files/jmespathWorkers.js';
import { KubeClusterReader } from '../k8s/cluster.js';
import type { CoreApi } from '../k8s/coreApi.js';
import { ServiceAccountIssuer } from '../k8s/serviceAccountIssuer.js';
import { TokenBucket } from '../k8s/tokenBucket.js';
import type { ProviderMetrics } from '../observability/metrics.js';
import type { MountRequestMessage } from '../server/proto.js';
import { AnswerCache, PublishedPaths } from './answerCache.js';
import { mount, ObjectsIds, type Fetched, type MountDependencies, type MountOutcome } from './mount.js';

/** The flags a Mount pipeline is built from. */
export type MountSettings = Pick<
  ProviderFlags,
  | 'qps'
  | 'burst'
  | 'serviceAccountCacheTtlMs'
  | 'serviceAccountCacheSize'
  | 'credentialCacheSize'
  | 'credentialCacheNamespaceSize'
  | 'credentialRefreshMarginMs'
  | 'mountTimeoutMs'
  | 'awsRetryMode'
  | 'awsMaxAttempts'
  | 'awsRequestTimeoutMs'
  | 'stsEndpoints'
  | 'podIdentityEndpointIpv4'
  | 'podIdentityEndpointIpv6'
  | 'podIdentityHttpTimeoutMs'
  | 'fetchConcurrency'
  | 'jmesPathTimeoutMs'
  | 'maxAnswerBytes'
  | 'maxObjects'
  | 'maxFilesPerEntry'
  | 'rotationCacheTtlMs'
  | 'rotationCacheGraceMs'
  | 'rotationCacheBytes'
  | 'throttleWaitMs'
>;

/** Where a pipeline reaches outside the process, and what it tells. */
export interface MountEdges {
  /** The Kubernetes API (ServiceAccounts, Pods, Nodes, the issuer's keys), loaded on first use. */
  coreApi: () => Promise<CoreApi>;
  /** Answers every AWS request in place of the network (priming, tests); the network when absent. */
  awsRequestHandler?: InProcessHandler;
  /** How the EKS Pod Identity agent is called; the global fetch when absent. */
  podIdentityFetch?: typeof fetch;
  /** The jmesPath worker thread's script; its workers start with the first Mount that has jmesPath entries. */
  jmesPathWorker: URL;
  /** The provider's own AWS_REGION, used when the SecretProviderClass names none. */
  providerRegion: string | undefined;
  /** The AWS user agent's product part (`name/version`). */
  userAgent?: string;
  /** The SDK's app id on every AWS call, as ASCP sends it. */
  appId?: string;
  /** Where the pipeline's counters go; none for priming, which no metric of the provider may see. */
  metrics?: ProviderMetrics;
}

/**
 * Verified tokens remembered (by hash, each until it expires): a node's pods hold two audiences each and get a new
 * token about hourly, so a few hundred are live at once; ~200 bytes each.
 */
const VERIFIED_TOKENS = 4096;

/**
 * Answers kept for re-publishes at most (besides --rotation-cache-size): one per distinct (identity,
 * SecretProviderClass, regions) of the node's pods, which a node of 110-250 pods stays well under.
 */
const ANSWERS = 4096;
/** Target paths remembered per identity: a node's pods of one identity, each with a few volumes. */
const PATHS_PER_IDENTITY = 1024;
/**
 * A path unseen for this long (five of the driver's default 2-minute rotation polls) is forgotten: its volume was
 * probably unpublished. Forgetting one too soon only costs its next re-publish a fetch.
 */
const PATH_MEMORY_MS = 10 * 60_000;
/**
 * BatchGetSecretValue's quota is per second: after it was throttled beyond the SDK's retries, a region's batches go
 * out as GetSecretValue for a minute, then batching is tried again.
 */
const BATCH_COOLDOWN_MS = 60_000;

export interface MountCore {
  /** One Mount through the pipeline: parse → region → identity → fetch → extract and render. */
  mount(request: MountRequestMessage, signal: AbortSignal): Promise<MountOutcome>;
  /** What `mount` runs with, for the handler that wraps it with its deadline, metrics and log line. */
  dependencies: MountDependencies;
  cluster: KubeClusterReader;
  issuer: ServiceAccountIssuer;
  /** Closes the clients' connections and the jmesPath workers. */
  close(): Promise<void>;
}

export function createMountCore(settings: MountSettings, edges: MountEdges): MountCore {
  const { metrics } = edges;
  const kubeLimit = new TokenBucket(settings.qps, settings.burst);
  const cluster = new KubeClusterReader(edges.coreApi, {
    serviceAccountTtlMs: settings.serviceAccountCacheTtlMs,
    maxEntries: settings.serviceAccountCacheSize,
    throttle: (call, namespace) => kubeLimit.run(call, namespace),
    onCall: (resource, outcome) => metrics?.kubernetesCalls.inc({ resource, outcome }),
    onCacheLookup: (cache, result) => metrics?.cacheRequests.inc({ cache, result }),
  });
  // Every pod's token is verified with the cluster issuer's keys before credentials are served for it.
  const issuer = new ServiceAccountIssuer(edges.coreApi, {
    throttle: (call) => kubeLimit.run(call),
    onCall: (document, outcome) => metrics?.kubernetesCalls.inc({ resource: document, outcome }),
  });
  const tokens = new TokenVerifier(issuer, {
    maxEntries: VERIFIED_TOKENS,
    onLookup: (result) => metrics?.cacheRequests.inc({ cache: 'tokens', result }),
  });
  const aws = {
    retryMode: settings.awsRetryMode,
    maxAttempts: settings.awsMaxAttempts,
    requestTimeoutMs: settings.awsRequestTimeoutMs,
    ...(edges.awsRequestHandler !== undefined && { requestHandler: edges.awsRequestHandler }),
  };
  const throttling = new RegionThrottling({
    batchCooldownMs: BATCH_COOLDOWN_MS,
    // Re-publishes back off for the whole grace after AWS throttled a service in the region: a pair is fetched again
    // only once its answer is older than the TTL and the grace, so a node's rotation calls fall to what the quota
    // leaves first mounts (docs/performance.md, "Rotation at scale"), not back to once per TTL at the first quiet minute.
    pressureMs: Math.max(1, settings.rotationCacheGraceMs),
    // A re-publish comes once per poll interval, which the TTL is set to: one throttled try per pair per interval.
    republishBackoffMs: settings.rotationCacheTtlMs,
    onSwitch: (region, to) => metrics?.strategySwitches.inc({ region, to }),
  });
  const userAgent = {
    ...(edges.userAgent !== undefined && { userAgent: edges.userAgent }),
    ...(edges.appId !== undefined && { appId: edges.appId }),
  };
  const pool = new AwsClientPool({
    ...aws,
    ...userAgent,
    onCall: ({ service, action, region, outcome, attempts }) => {
      metrics?.awsCalls.inc({ service, action, region, outcome });
      if (attempts > 1) metrics?.awsRetries.inc({ service, action, region }, attempts - 1);
    },
    onThrottled: (call) => {
      // A throttled batch is sent again as GetSecretValue, whose quota is 100 times larger: Secrets Manager is short
      // of quota in the region only once those are throttled too.
      if (call.action !== 'BatchGetSecretValue') throttling.noteThrottled(call.region, call.service);
      metrics?.throttles.inc(call);
    },
  });
  // Credentials by identity key, shared by IRSA, Pod Identity and role chaining (never across identities).
  const credentials = new CredentialCache({
    maxEntries: settings.credentialCacheSize,
    maxEntriesPerNamespace: settings.credentialCacheNamespaceSize,
    refreshMarginMs: settings.credentialRefreshMarginMs,
    obtainTimeoutMs: settings.mountTimeoutMs,
    onLookup: (result) => metrics?.cacheRequests.inc({ cache: 'credentials', result }),
  });
  // STS calls follow the same retry and per-attempt timeout settings as the Secrets Manager and SSM calls.
  const sts = new StsClients({ ...aws, ...userAgent, endpoints: settings.stsEndpoints });
  const chainer = new RoleChainer(sts);
  const identity = (source: IdentitySource) =>
    new CachingIdentityResolver(source, credentials, chainer, (kind, outcome) =>
      metrics?.credentialFetches.inc({ kind, outcome }),
    );
  const jmesPath = new JmesPathWorkers({
    ...JMESPATH_LIMITS,
    script: edges.jmesPathWorker,
    timeoutMs: settings.jmesPathTimeoutMs,
  });
  const objects = new ObjectsCache();
  const dependencies: MountDependencies = {
    cluster,
    irsa: identity(new IrsaResolver(cluster, sts, tokens)),
    podIdentity: identity(
      new PodIdentityResolver(
        {
          ipv4Endpoint: settings.podIdentityEndpointIpv4,
          ipv6Endpoint: settings.podIdentityEndpointIpv6,
          timeoutMs: settings.podIdentityHttpTimeoutMs,
          ...(edges.podIdentityFetch !== undefined && { fetch: edges.podIdentityFetch }),
        },
        tokens,
      ),
    ),
    pool,
    batchSupport: new BatchSupportStore(),
    providerRegion: edges.providerRegion,
    fetchConcurrency: settings.fetchConcurrency,
    sharedFetches: new SharedCalls(),
    jmesPath,
    maxAnswerBytes: settings.maxAnswerBytes,
    maxObjects: settings.maxObjects,
    maxFilesPerEntry: settings.maxFilesPerEntry,
    parseObjects: objects.parse,
    objectsIds: new ObjectsIds(),
    published: new PublishedPaths({
      maxIdentities: settings.credentialCacheSize,
      maxPathsPerIdentity: PATHS_PER_IDENTITY,
      forgetAfterMs: Math.max(PATH_MEMORY_MS, settings.rotationCacheTtlMs + settings.rotationCacheGraceMs),
    }),
    answers: new AnswerCache<Fetched>({
      ttlMs: settings.rotationCacheTtlMs,
      graceMs: settings.rotationCacheGraceMs,
      maxEntries: ANSWERS,
      maxBytes: settings.rotationCacheBytes,
    }),
    throttling,
    throttleWaitMs: settings.throttleWaitMs,
    onAnswer: (kind, result) => metrics?.answers.inc({ kind, result }),
  };
  return {
    mount: (request, signal) => mount(request, dependencies, signal),
    dependencies,
    cluster,
    issuer,
    async close() {
      pool.destroy();
      sts.destroy();
      await jmesPath.close();
    },
  };
}
