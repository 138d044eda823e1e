/**
 * Fetches every object of a Mount (spec §4, §6): the primary region first, with every call planned up front
 * and run concurrently under one bound; objects whose calls failed because the region is unhealthy are
 * re-planned against the failover regions, one after another. All or nothing: any object that does not resolve fails the Mount.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import { MAXIMUM_RETRY_DELAY, THROTTLING_RETRY_DELAY_BASE } from '@smithy/core/retry';
import pLimit from 'p-limit';
import { FLAG_DEFAULTS } from '../config/flags.js';
import { refInRegion } from '../config/arn.js';
import { describeObject, type ObjectRef, type ObjectSpec } from '../config/types.js';
import { ProviderError } from '../errors.js';
import type { AwsClientPool } from './clients.js';
import { isAborted, isRegionalFault, isThrottling, toProviderError } from './errors.js';
import { fetchSecrets } from './secretsManager.js';
import { fetchParameters } from './ssm.js';
import { fetchWildcards } from './wildcards.js';
import type { AwsIdentity, BatchSupport, BatchThrottling, FetchedValue, Outcome, RegionContext } from './types.js';

export interface FetchObjectsInput {
  objects: readonly ObjectSpec[];
  region: string;
  /** Tried in order, each only for the objects the regions before it failed with a regional fault. */
  failoverRegions?: readonly string[];
  identity: AwsIdentity;
  pool: AwsClientPool;
  batchSupport: BatchSupport;
  batchThrottling: BatchThrottling;
  /** AWS calls in flight for this Mount (--fetch-concurrency). */
  concurrency?: number;
  /** The Mount's deadline; handed to every SDK call. */
  signal?: AbortSignal;
  /** Matches one wildcard entry may expand to (--max-files-per-entry). */
  maxMatches?: number;
  /**
   * How long calls of the last region tried that AWS still throttles after the SDK's retries are sent again
   * (--throttle-wait for a first mount, a few seconds for a re-publish); 0 or absent: they fail at once.
   */
  throttleWaitMs?: number;
}

export interface FetchedObject extends FetchedValue {
  spec: ObjectSpec;
  /** The region the value was read from. */
  region: string;
  fromFailover: boolean;
}

interface Failure {
  spec: ObjectSpec;
  outcome: Extract<Outcome, { ok: false }>;
}

function refKey(ref: ObjectRef): string {
  return JSON.stringify([ref.objectName, ref.objectVersion, ref.objectVersionLabel]);
}

/** The unique refs of `specs` (an object listed twice is asked for once) and, per spec, its ref's index. */
function dedupe(specs: readonly ObjectSpec[], refOf: (spec: ObjectSpec) => ObjectRef) {
  const refs: ObjectRef[] = [];
  const seen = new Map<string, number>();
  const indexes = specs.map((spec) => {
    const ref = refOf(spec);
    const key = refKey(ref);
    let index = seen.get(key);
    if (index === undefined) seen.set(key, (index = refs.push(ref) - 1));
    return index;
  });
  return { refs, indexes };
}

/** One outcome per spec, in order, from one region; both services are asked at once. */
async function fetchRegion(
  specs: readonly ObjectSpec[],
  refOf: (spec: ObjectSpec) => ObjectRef,
  ctx: RegionContext,
): Promise<Outcome[]> {
  const wildcardSpecs = specs.filter((s): s is ObjectSpec & Required<Pick<ObjectSpec, 'wildcard'>> => s.wildcard !== undefined);
  const secretSpecs = specs.filter((s) => s.objectType === 'secretsmanager' && s.wildcard === undefined);
  const parameterSpecs = specs.filter((s) => s.objectType === 'ssmparameter' && s.wildcard === undefined);
  const secrets = dedupe(secretSpecs, refOf);
  const parameters = dedupe(parameterSpecs, refOf);
  const [secretOutcomes, parameterOutcomes, wildcardOutcomes] = await Promise.all([
    secrets.refs.length > 0 ? fetchSecrets(secrets.refs, ctx) : [],
    parameters.refs.length > 0 ? fetchParameters(parameters.refs, ctx) : [],
    wildcardSpecs.length > 0 ? fetchWildcards(wildcardSpecs, ctx) : [],
  ]);
  const bySpec = new Map<ObjectSpec, Outcome>();
  secretSpecs.forEach((spec, i) => bySpec.set(spec, secretOutcomes[secrets.indexes[i]!]!));
  parameterSpecs.forEach((spec, i) => bySpec.set(spec, parameterOutcomes[parameters.indexes[i]!]!));
  wildcardSpecs.forEach((spec, i) => bySpec.set(spec, wildcardOutcomes[i]!));
  return specs.map((spec) => bySpec.get(spec)!);
}

function failuresOf(specs: readonly ObjectSpec[], outcomes: readonly Outcome[]): Failure[] {
  const failures: Failure[] = [];
  outcomes.forEach((outcome, i) => {
    if (!outcome.ok) failures.push({ spec: specs[i]!, outcome });
  });
  return failures;
}

/** Failures that end the Mount without a failover: our deadline first, then client errors. */
function fatalOf(failures: Failure[]): Failure[] {
  const aborted = failures.filter((f) => isAborted(f.outcome.error));
  return aborted.length > 0 ? aborted : failures.filter((f) => !isRegionalFault(f.outcome.error));
}

/**
 * One error for a region's failures: the first failure's cause, naming every object that shared it (one call
 * fails for all its objects), and a count of the objects that failed for other reasons.
 */
function regionFailure(failures: Failure[], region: string): ProviderError {
  const first = failures[0]!.outcome;
  const sharing = failures.filter((f) => f.outcome.error === first.error);
  const objects = sharing.map((f) => describeObject(f.spec));
  const error = toProviderError(first.error, { objects, region, action: first.action });
  const others = failures.length - sharing.length;
  if (others === 0) return error;
  const more = `${error.message} (${others} more object${others === 1 ? '' : 's'} failed in ${region} too)`;
  return new ProviderError(error.code, more, { cause: error.cause });
}

/** The error of a Mount that waited out AWS's throttling in vain says how long it waited. */
function stillThrottled(error: ProviderError, waited: ThrottlingWait | undefined): ProviderError {
  if (waited === undefined) return error;
  const seconds = Math.round(waited.waitedMs / 100) / 10;
  const again = `asked again ${waited.rounds} time${waited.rounds === 1 ? '' : 's'} over ${seconds} s, still throttled`;
  return new ProviderError(error.code, `${error.message} (${again})`, { cause: error.cause });
}

/** Every region tried failed: the primary's error, then each failover region's, in order. */
function everyRegionFailed(errors: readonly ProviderError[]): ProviderError {
  const [primary, ...failovers] = errors;
  const named = failovers.map((error, i) => `Failover${failovers.length > 1 ? ` ${i + 1}` : ''}: ${error.message}`);
  return new ProviderError(
    'RegionUnavailable',
    `${errors.length === 2 ? 'both regions' : `all ${errors.length} regions`} failed. Primary: ${primary!.message}. ` +
      `${named.join('. ')}`,
    { cause: primary!.cause },
  );
}

interface ThrottlingWait {
  failures: Failure[];
  /** Times the throttled objects were asked for again, and over how long. */
  rounds: number;
  waitedMs: number;
}

/**
 * AWS throttles per account and region, across every node: a Mount whose calls are still throttled after the SDK's
 * retries asks again for what was throttled (keeping what it got), after the SDK's throttling backoff (jittered,
 * doubling, capped), until it passes or `waitMs` is spent, rather than failing a pod's start for kubelet to retry
 * the whole Mount later. Only while throttling is all that is left: any other failure ends the Mount as it would have.
 */
async function waitOutThrottling(
  failures: Failure[],
  waitMs: number,
  signal: AbortSignal | undefined,
  askAgain: (specs: ObjectSpec[]) => Promise<Failure[]>,
): Promise<ThrottlingWait> {
  const started = performance.now();
  let rounds = 0;
  while (failures.length > 0 && failures.every((f) => isThrottling(f.outcome.error))) {
    const left = started + waitMs - performance.now();
    if (left <= 0) break;
    const backoff = Math.min(MAXIMUM_RETRY_DELAY, THROTTLING_RETRY_DELAY_BASE * 2 ** rounds);
    try {
      await sleep(Math.min(left, Math.random() * backoff), undefined, { signal });
    } catch {
      // Our deadline: the throttled calls are what this Mount ends with.
      break;
    }
    failures = await askAgain(failures.map((f) => f.spec));
    rounds++;
  }
  return { failures, rounds, waitedMs: performance.now() - started };
}

export async function fetchObjects(input: FetchObjectsInput): Promise<FetchedObject[]> {
  const limit = pLimit(input.concurrency ?? FLAG_DEFAULTS.fetchConcurrency);
  const contextFor = (region: string): RegionContext => ({
    region,
    maxMatches: input.maxMatches ?? FLAG_DEFAULTS.maxFilesPerEntry,
    clients: input.pool.clientsFor(input.identity, region),
    identityKey: input.identity.key,
    batchSupport: input.batchSupport,
    batchThrottling: input.batchThrottling,
    limit,
    signal: input.signal,
  });
  const results = new Map<ObjectSpec, FetchedObject>();
  const keep = (specs: readonly ObjectSpec[], outcomes: readonly Outcome[], region: string, fromFailover: boolean) =>
    outcomes.forEach((outcome, i) => {
      const spec = specs[i]!;
      if (outcome.ok) results.set(spec, { spec, ...outcome.fetched, region, fromFailover });
    });

  let refOf = (s: ObjectSpec) => s.primary;
  const primaryOutcomes = await fetchRegion(input.objects, refOf, contextFor(input.region));
  keep(input.objects, primaryOutcomes, input.region, false);
  let failures = failuresOf(input.objects, primaryOutcomes);
  let region = input.region;
  const errors: ProviderError[] = [];
  for (const failoverRegion of input.failoverRegions ?? []) {
    if (failures.length === 0) break;
    const fatal = fatalOf(failures);
    // A client error is the user's to fix: another region would only hide it (or add its own).
    if (fatal.length > 0) break;
    errors.push(regionFailure(failures, region));
    const retry = failures.map((f) => f.spec);
    refOf = (s) => refInRegion(s.failover ?? s.primary, failoverRegion);
    const outcomes = await fetchRegion(retry, refOf, contextFor(failoverRegion));
    keep(retry, outcomes, failoverRegion, true);
    failures = failuresOf(retry, outcomes);
    region = failoverRegion;
  }
  let waited: ThrottlingWait | undefined;
  if (failures.length > 0 && (input.throttleWaitMs ?? 0) > 0) {
    const ctx = contextFor(region);
    const fromFailover = region !== input.region;
    const wait = await waitOutThrottling(failures, input.throttleWaitMs!, input.signal, async (specs) => {
      const outcomes = await fetchRegion(specs, refOf, ctx);
      keep(specs, outcomes, region, fromFailover);
      return failuresOf(specs, outcomes);
    });
    failures = wait.failures;
    if (wait.rounds > 0) waited = wait;
  }
  if (failures.length > 0) {
    const fatal = fatalOf(failures);
    const last = stillThrottled(regionFailure(fatal.length > 0 ? fatal : failures, region), waited);
    // Our deadline ends the Mount where it stood; otherwise every region's cause is named.
    const aborted = failures.some((f) => isAborted(f.outcome.error));
    throw errors.length === 0 || aborted ? last : everyRegionFailed([...errors, last]);
  }
  return input.objects.map((spec) => results.get(spec)!);
}
