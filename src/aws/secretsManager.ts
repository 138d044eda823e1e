/**
 * Secrets Manager for one region: current versions in batches of 20 through BatchGetSecretValue, pinned
 * versions and labels one by one through GetSecretValue, and GetSecretValue for every object when the identity
 * may not batch, or while BatchGetSecretValue is throttled in the region.
 */

import {
  BatchGetSecretValueCommand,
  GetSecretValueCommand,
  type APIErrorType,
  type SecretValueEntry,
} from '@aws-sdk/client-secrets-manager';
import { LRUCache } from 'lru-cache';
import type { ObjectRef } from '../config/types.js';
import { AnswerError, isAccessDenied, isThrottling, MISSING_FROM_ANSWER } from './errors.js';
import { callKey } from './sharedCalls.js';
import type { BatchSupport, FetchedValue, Outcome, RegionContext } from './types.js';

export interface BatchSupportStoreOptions {
  /** Identities remembered at most. Default 1000. */
  max?: number;
  /**
   * How long a denial is believed (ms). Default one hour: a role later granted
   * `secretsmanager:BatchGetSecretValue` goes back to batching without a restart.
   */
  ttlMs?: number;
}

/** The bounded, in-memory BatchSupport created in main. */
export class BatchSupportStore implements BatchSupport {
  private readonly denied: LRUCache<string, true>;

  constructor(options: BatchSupportStoreOptions = {}) {
    this.denied = new LRUCache<string, true>({ max: options.max ?? 1000, ttl: options.ttlMs ?? 3_600_000 });
  }

  isUnsupported(identityKey: string): boolean {
    return this.denied.has(identityKey);
  }

  markUnsupported(identityKey: string): void {
    this.denied.set(identityKey, true);
  }
}

/** BatchGetSecretValue takes at most 20 ids in `SecretIdList`. */
export const SECRETS_PER_BATCH = 20;

export type SecretCall = { batch: true; refs: number[] } | { batch: false; ref: number };

export function isPinned(ref: ObjectRef): boolean {
  return ref.objectVersion !== undefined || ref.objectVersionLabel !== undefined;
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/** The calls for `refs` (by index): ceil(current / 20) batches, or one GetSecretValue each if batching is off. */
export function planSecretCalls(refs: readonly ObjectRef[], batch: boolean): SecretCall[] {
  const current: number[] = [];
  const calls: SecretCall[] = [];
  refs.forEach((ref, i) => {
    if (batch && !isPinned(ref)) current.push(i);
    else calls.push({ batch: false, ref: i });
  });
  return [...chunk(current, SECRETS_PER_BATCH).map((c): SecretCall => ({ batch: true, refs: c })), ...calls];
}

/**
 * The entry of an answer that belongs to the requested `id`. A SecretId may be a name, a full ARN or a partial
 * ARN (the ARN without the `-xxxxxx` suffix Secrets Manager appends); an answer carries both ARN and Name.
 * Exact matches win, so a secret whose name ends like a suffix cannot steal another's answer.
 */
export function findEntry<T>(id: string, entries: readonly T[], keys: (entry: T) => [string?, string?]): T | undefined {
  const exact = entries.find((entry) => keys(entry).includes(id));
  if (exact !== undefined || !id.startsWith('arn:')) return exact;
  return entries.find((entry) => {
    const arn = keys(entry)[0];
    return arn !== undefined && arn.length === id.length + 7 && arn.startsWith(`${id}-`);
  });
}

export function toFetched(answer: Pick<SecretValueEntry, 'SecretString' | 'SecretBinary' | 'VersionId'>): FetchedValue {
  const version = answer.VersionId ?? '';
  if (answer.SecretString !== undefined) return { value: Buffer.from(answer.SecretString, 'utf8'), version };
  if (answer.SecretBinary !== undefined) return { value: Buffer.from(answer.SecretBinary), version, binary: true };
  return { value: Buffer.alloc(0), version };
}

/** One outcome per requested id: its value, its `Errors[]` entry, or MissingFromAnswer. */
export function matchBatchAnswer(
  ids: readonly string[],
  values: readonly SecretValueEntry[],
  errors: readonly APIErrorType[],
): Outcome[] {
  return ids.map((id): Outcome => {
    const entry = findEntry(id, values, (v) => [v.ARN, v.Name]);
    if (entry !== undefined) return { ok: true, fetched: toFetched(entry) };
    const failure = findEntry(id, errors, (e) => [e.SecretId, e.SecretId]);
    const error = failure
      ? new AnswerError(failure.ErrorCode ?? 'UnknownError', failure.Message ?? '')
      : new AnswerError(MISSING_FROM_ANSWER, 'the answer held neither a value nor an error for it');
    return { ok: false, error, action: 'BatchGetSecretValue' };
  });
}

/**
 * 'denied' when the identity may not call BatchGetSecretValue at all (the whole call is refused), 'throttled' when
 * AWS throttled it beyond the SDK's retries.
 */
async function batchGet(ids: string[], ctx: RegionContext): Promise<Outcome[] | 'denied' | 'throttled'> {
  if (ctx.batchSupport.isUnsupported(ctx.identityKey)) return 'denied';
  const values: SecretValueEntry[] = [];
  const errors: APIErrorType[] = [];
  try {
    let nextToken: string | undefined;
    do {
      const command = new BatchGetSecretValueCommand({ SecretIdList: ids, NextToken: nextToken });
      const answer = await ctx.clients.shared.run(
        callKey('BatchGetSecretValue', { ids, nextToken }),
        (signal) => ctx.clients.secretsManager.send(command, { abortSignal: signal }),
        ctx.signal,
      );
      values.push(...(answer.SecretValues ?? []));
      errors.push(...(answer.Errors ?? []));
      nextToken = answer.NextToken;
    } while (nextToken);
  } catch (error) {
    if (isAccessDenied(error)) return 'denied';
    if (isThrottling(error)) return 'throttled';
    return ids.map(() => ({ ok: false, error, action: 'BatchGetSecretValue' }));
  }
  return matchBatchAnswer(ids, values, errors);
}

async function getOne(ref: ObjectRef, ctx: RegionContext): Promise<Outcome> {
  const command = new GetSecretValueCommand({
    SecretId: ref.objectName,
    VersionId: ref.objectVersion,
    VersionStage: ref.objectVersionLabel,
  });
  try {
    const answer = await ctx.clients.shared.run(
      callKey('GetSecretValue', command.input),
      (signal) => ctx.clients.secretsManager.send(command, { abortSignal: signal }),
      ctx.signal,
    );
    return { ok: true, fetched: toFetched(answer) };
  } catch (error) {
    return { ok: false, error, action: 'GetSecretValue' };
  }
}

/** Fetches every ref from the region; the outcomes are in the order of `refs`. */
export async function fetchSecrets(refs: readonly ObjectRef[], ctx: RegionContext): Promise<Outcome[]> {
  const outcomes = new Array<Outcome>(refs.length);
  const getEach = (indexes: number[]) =>
    Promise.all(
      indexes.map(async (i) => {
        outcomes[i] = await ctx.limit(() => getOne(refs[i]!, ctx));
      }),
    );
  const batch = !ctx.batchSupport.isUnsupported(ctx.identityKey) && !ctx.batchThrottling.prefersSingle(ctx.region);
  const calls = planSecretCalls(refs, batch);
  await Promise.all(
    calls.map(async (call) => {
      if (!call.batch) return getEach([call.ref]);
      const answer = await ctx.limit(() => batchGet(call.refs.map((i) => refs[i]!.objectName), ctx));
      if (Array.isArray(answer)) return call.refs.forEach((i, k) => (outcomes[i] = answer[k]!));
      // Throttling of the batch is not the region failing: GetSecretValue has a quota of its own. Only when those
      // calls are throttled too do their errors reach the failover decision.
      if (answer === 'throttled') ctx.batchThrottling.markBatchThrottled(ctx.region);
      else ctx.batchSupport.markUnsupported(ctx.identityKey);
      // Scheduled outside the batch's slot of the limit: a slot waiting for slots could deadlock.
      return getEach(call.refs);
    }),
  );
  return outcomes;
}
