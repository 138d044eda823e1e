import type { AwsClientPool } from '../aws/clients.js';
import { isAborted, isThrottling, listObjects } from '../aws/errors.js';
import { fetchObjects, type FetchedObject } from '../aws/fetchObjects.js';
import type { SharedCalls } from '../aws/sharedCalls.js';
import type { RegionThrottling } from '../aws/throttling.js';
import type { BatchSupport } from '../aws/types.js';
import type { AwsIdentity, IdentityResolver } from '../auth/identity.js';
import { parseMountRequest, type MountRequestFields, type ObjectsParser } from '../config/mountRequest.js';
import { invalidSpc, ProviderError } from '../errors.js';
import { checkArnRegions } from '../config/objects.js';
import { describeObject, type MountConfig, type ObjectSpec } from '../config/types.js';
import { JMESPATH_LIMITS, type JmesPathExtractor } from '../files/jmespathWorkers.js';
import { prepareObjects } from '../files/members.js';
import { renderFiles } from '../files/render.js';
import type { ClusterReader } from '../k8s/cluster.js';
import type { MountRequestMessage, MountResponseMessage } from '../server/proto.js';
import type { AnswerCache, AnswerSource, CachedAnswer, MountKind, PublishedPaths } from './answerCache.js';
import { checkAnswerSize } from './answerLimit.js';
import { resolveRegion } from './region.js';

export interface MountDependencies {
  cluster: ClusterReader;
  irsa: IdentityResolver;
  podIdentity: IdentityResolver;
  pool: AwsClientPool;
  batchSupport: BatchSupport;
  /** The provider's own AWS_REGION, used when the SecretProviderClass names none. */
  providerRegion: string | undefined;
  /** How many AWS calls one Mount may have in flight. */
  fetchConcurrency: number;
  /** Where concurrent Mounts with the same objects, identity and regions share one fetch and its answer. */
  sharedFetches: SharedCalls;
  /** Evaluates the jmesPath entries, off the event loop and within budgets. */
  jmesPath: JmesPathExtractor;
  /** The largest encoded answer the driver takes (its --max-call-recv-msg-size). */
  maxAnswerBytes: number;
  /** Objects one SecretProviderClass may list: bounds the AWS calls of one Mount. */
  maxObjects: number;
  /** Files one wildcard or jsonKeys entry may write. */
  maxFilesPerEntry: number;
  /** Parses the objects YAML, remembering each text's verdict (config/objectsCache.ts). */
  parseObjects: ObjectsParser;
  /** Numbers each parsed objects list, for the fetch key. */
  objectsIds: ObjectsIds;
  /** The target paths served, per identity: a path seen again is a rotation re-publish. */
  published: PublishedPaths;
  /** Answers re-publishes may be served from (--rotation-cache-ttl), by fetch key. */
  answers: AnswerCache<Fetched>;
  /** Which regions AWS throttles lately: BatchGetSecretValue's cool-down, and re-publishes backing off. */
  throttling: RegionThrottling;
  /** How long a first mount asks again for what AWS still throttles (--throttle-wait). */
  throttleWaitMs: number;
  /** Told of every Mount's kind and how it was answered (hit, miss, stale). */
  onAnswer?: (kind: MountKind, result: 'hit' | 'miss' | 'stale' | 'deferred') => void;
}

export interface MountOutcome {
  response: MountResponseMessage;
  config: MountConfig;
  region: string;
  /** Objects served by each failover region, by region (none when the primary served them all). */
  failedOver: ReadonlyMap<string, number>;
  kind: MountKind;
  source: AnswerSource;
  /** How old a cached answer was. */
  ageMs?: number;
}

export interface Fetched {
  response: MountResponseMessage;
  failedOver: ReadonlyMap<string, number>;
  /** Per object, in the objects' order: where and which version it was read from. */
  sources: readonly Pick<FetchedObject, 'region' | 'version' | 'fromFailover'>[];
}

interface Answered extends Fetched {
  source: AnswerSource;
  ageMs?: number;
}

/** The Mount, stage by stage as the spec reads: parse → region → identity → fetch → extract and render. */
export async function mount(
  request: MountRequestMessage,
  deps: MountDependencies,
  signal: AbortSignal,
): Promise<MountOutcome> {
  const config = parseStage(request, deps);
  const region = await resolveRegion(config, deps.providerRegion, deps.cluster);
  checkArnRegions(config, region);
  const resolver = config.usePodIdentity ? deps.podIdentity : deps.irsa;
  // A whole region down takes its STS with it: the credentials may come from a failover region's STS.
  const identity = await resolver.resolve(config, [region, ...config.failoverRegions], signal);
  const key = fetchKey(config, region, identity, deps.objectsIds);
  const { targetPath, pod } = config;
  const kind: MountKind = deps.published.seen(identity.key, pod.uid, targetPath) ? 'republish' : 'first';
  // A first mount never reads the answer cache: a pod started after a secret was rotated must get the new value.
  if (kind === 'first') deps.onAnswer?.('first', 'miss');
  const answered =
    kind === 'first'
      ? await firstMount(key, config, region, identity, deps, signal)
      : await republish(key, config, region, identity, deps, signal);
  deps.published.served(identity.key, pod.uid, targetPath);
  return { ...answered, config, region, kind };
}

/**
 * How long a re-publish asks again for what AWS still throttles: the driver re-publishes a node's volumes one after
 * another (its rotation reconciler has one worker), so a re-publish that waited long would hold back every other
 * volume's rotation; a few seconds are one or two of the SDK's throttling backoffs, enough that the objects a fetch
 * got are not thrown away for one throttled call.
 */
const REPUBLISH_THROTTLE_WAIT_MS = 5_000;

/**
 * The pods of a Deployment mount the same SecretProviderClass as the same identity, often at the same moment:
 * while one such fetch is in flight, the others wait for its answer instead of each matching, rendering and
 * (in the server) encoding the same 40 files again. First mounts and re-publishes do not share a fetch: a first
 * mount's waits out AWS's throttling (--throttle-wait), a re-publish's only a few seconds.
 */
function fetchShared(
  key: string,
  kind: MountKind,
  config: MountConfig,
  region: string,
  identity: AwsIdentity,
  deps: MountDependencies,
  signal: AbortSignal,
): Promise<Fetched> {
  return deps.sharedFetches
    .run(
      `${kind} ${key}`,
      async (shared) => {
        const wait = kind === 'first' ? deps.throttleWaitMs : Math.min(deps.throttleWaitMs, REPUBLISH_THROTTLE_WAIT_MS);
        const answer = await fetchAndRender(config, region, identity, deps, shared, wait);
        deps.answers.store(key, answer);
        return answer;
      },
      signal,
    )
    .catch((err: unknown) => {
      throw isAborted(err) ? stoppedWaiting(config, region, err) : err;
    });
}

/** A pod's first mount: always fetched, and counted while it fetches, so that re-publishes leave it the quota. */
async function firstMount(
  key: string,
  config: MountConfig,
  region: string,
  identity: AwsIdentity,
  deps: MountDependencies,
  signal: AbortSignal,
): Promise<Answered> {
  const done = deps.throttling.firstMountFetching(region, servicesOf(config));
  try {
    return { ...(await fetchShared(key, 'first', config, region, identity, deps, signal)), source: 'fetched' };
  } finally {
    done();
  }
}

/**
 * A rotation re-publish: answered from a fetch of the same objects by the same identity younger than the TTL. While
 * AWS throttles their service in the region, an answer within the grace is served instead of a call (and when the
 * call is throttled), so that first mounts get the quota; the pod keeps files a little older, as the driver would
 * keep its old files had the re-publish failed.
 */
async function republish(
  key: string,
  config: MountConfig,
  region: string,
  identity: AwsIdentity,
  deps: MountDependencies,
  signal: AbortSignal,
): Promise<Answered> {
  // A cached answer fails nothing over: its failovers were counted when it was fetched.
  const fresh = deps.answers.fresh(key);
  if (fresh !== undefined) {
    deps.onAnswer?.('republish', 'hit');
    return { ...fresh.value, failedOver: new Map(), source: 'cache', ageMs: fresh.ageMs };
  }
  const stale = (answer: CachedAnswer<Fetched>): Answered => {
    deps.onAnswer?.('republish', 'stale');
    return { ...answer.value, failedOver: new Map(), source: 'stale', ageMs: answer.ageMs };
  };
  const graced = deps.answers.withinGrace(key);
  const services = servicesOf(config);
  if (deps.throttling.isThrottling(region, services)) {
    if (graced !== undefined) return stale(graced);
    // Past the grace: the pod keeps its files (the driver keeps them when a re-publish fails) rather than spend the
    // quota first mounts wait for, or call again before a poll interval has passed since this fetch was throttled.
    const why = deps.throttling.republishThrottledLately(key)
      ? 'its last fetch was throttled less than --rotation-cache-ttl ago'
      : deps.throttling.firstMountsFetching(region, services)
        ? 'first mounts are waiting for its quota'
        : undefined;
    if (why !== undefined) {
      deps.onAnswer?.('republish', 'deferred');
      throw deferredRepublish(config, region, why);
    }
  }
  try {
    const fetched = await fetchShared(key, 'republish', config, region, identity, deps, signal);
    deps.onAnswer?.('republish', 'miss');
    return { ...fetched, source: 'fetched' };
  } catch (err) {
    const late = deps.answers.withinGrace(key);
    if (late !== undefined && isThrottling(err)) return stale(late);
    if (isThrottling(err)) deps.throttling.noteRepublishThrottled(key);
    deps.onAnswer?.('republish', 'miss');
    throw err;
  }
}

/** The services the objects are read from, as the AWS client pool names them (its throttle observer's `service`). */
function servicesOf(config: MountConfig): ('secretsmanager' | 'ssm')[] {
  const types = new Set(config.objects.map((o) => o.objectType));
  return [...(types.has('secretsmanager') ? ['secretsmanager' as const] : []), ...(types.has('ssmparameter') ? ['ssm' as const] : [])];
}

function deferredRepublish(config: MountConfig, region: string, why: string): ProviderError {
  const objects = listObjects(config.objects.map(describeObject));
  return new ProviderError(
    'RegionUnavailable',
    `${objects}: not fetched again for this rotation re-publish: AWS throttles them in ${region} and ${why}. The pod keeps ` +
      'the files it has; a later re-publish fetches them once AWS stops throttling, or the Parameter Store or ' +
      'Secrets Manager quota is raised',
  );
}

/** The parse stage, every rule that needs no I/O; `check` (src/cli) runs it too, so it says what a Mount would. */
export function parseStage(request: MountRequestFields, deps: Pick<MountDependencies, 'parseObjects' | 'maxObjects'>): MountConfig {
  const config = parseMountRequest(request, deps.parseObjects);
  checkObjectCount(config, deps.maxObjects);
  return config;
}

/**
 * This Mount's deadline or cancellation came while the fetch (perhaps shared with other Mounts, which go on) was
 * still running: say what was being fetched and where, as an aborted AWS call would.
 */
function stoppedWaiting(config: MountConfig, region: string, cause: unknown): ProviderError {
  const objects = listObjects(config.objects.map(describeObject));
  return new ProviderError(
    'DeadlineExceeded',
    `${objects}: still being fetched from ${region} (failover regions: ${config.failoverRegions.join(', ') || 'none'}) when the ` +
      'Mount stopped waiting; check the network path to AWS and the provider logs',
    { cause },
  );
}

/**
 * Fetch (with failover), extract and render, after the identity stage; `check --fetch` (src/cli) runs it too.
 * `throttleWaitMs`: how long calls AWS still throttles are sent again (first mounts).
 */
export async function fetchAndRender(
  config: MountConfig,
  region: string,
  identity: AwsIdentity,
  deps: MountDependencies,
  signal: AbortSignal,
  throttleWaitMs = 0,
): Promise<Fetched> {
  const fetched = prepareObjects(
    await fetchObjects({
      objects: config.objects,
      region,
      failoverRegions: config.failoverRegions,
      identity,
      pool: deps.pool,
      batchSupport: deps.batchSupport,
      batchThrottling: deps.throttling,
      concurrency: deps.fetchConcurrency,
      signal,
      maxMatches: deps.maxFilesPerEntry,
      throttleWaitMs,
    }),
    { maxFiles: deps.maxFilesPerEntry, budgets: JMESPATH_LIMITS.budgets },
  );
  // A Mount without jmesPath entries never touches the extractor (and its worker threads).
  const extracted = fetched.some(({ spec }) => spec.jmesPath.length > 0) ? await deps.jmesPath.extract(fetched, signal) : [];
  const { files, versions } = renderFiles(fetched, extracted);
  const response = { files, objectVersion: versions, error: null };
  checkAnswerSize(response, config.objects, deps.maxAnswerBytes);
  const failedOver = new Map<string, number>();
  for (const object of fetched) {
    if (object.fromFailover) failedOver.set(object.region, (failedOver.get(object.region) ?? 0) + 1);
  }
  return {
    response,
    failedOver,
    sources: fetched.map(({ region, version, fromFailover }) => ({ region, version, fromFailover })),
  };
}

/**
 * Each object may cost an AWS call per region (GetSecretValue where BatchGetSecretValue is not allowed, SSM takes ten
 * names a call): the count bounds what one pod's SecretProviderClass makes the node's provider send.
 */
function checkObjectCount(config: MountConfig, maxObjects: number): void {
  if (config.objects.length <= maxObjects) return;
  throw invalidSpc(
    `objects lists ${config.objects.length} objects, more than the ${maxObjects} one SecretProviderClass may mount ` +
      '(--max-objects). Split them across SecretProviderClasses and volumes.',
  );
}

/**
 * Everything the answer depends on besides AWS: the parsed objects (one frozen list per SecretProviderClass text,
 * path translation and file mode, see objectsCache), the identity's key (namespace, service account, auth kind and
 * roles) and every region. Never the pod: two pods that differ only in name are served the same files.
 */
function fetchKey(config: MountConfig, region: string, identity: AwsIdentity, ids: ObjectsIds): string {
  return JSON.stringify([ids.of(config.objects), identity.key, region, config.failoverRegions]);
}

/** A number per parsed objects list, held as long as the list is (the parse cache keeps one list per text). */
export class ObjectsIds {
  private readonly ids = new WeakMap<readonly ObjectSpec[], number>();
  private next = 0;

  of(objects: readonly ObjectSpec[]): number {
    let id = this.ids.get(objects);
    if (id === undefined) this.ids.set(objects, (id = this.next++));
    return id;
  }
}
