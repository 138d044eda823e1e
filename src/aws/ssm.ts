/**
 * SSM Parameter Store for one region: GetParameters with decryption, at most 10 selectors per call, calls
 * concurrent.
 *
 * Matching answers to requests: AWS echoes a `Selector` on each parameter, but moto does not, and `Name` is the
 * bare name either way (a version or label is not in it, and a label is not in the answer at all). So the plan
 * puts at most one request per parameter in a call; then the parameter's name alone says which request an
 * answer (or an `InvalidParameters` entry) belongs to, whatever the selector and whether or not it is echoed.
 */

import { GetParametersCommand, type GetParametersResult, type Parameter } from '@aws-sdk/client-ssm';
import type { ObjectRef } from '../config/types.js';
import { AnswerError, INVALID_PARAMETERS, MISSING_FROM_ANSWER } from './errors.js';
import { callKey } from './sharedCalls.js';
import type { Outcome, RegionContext } from './types.js';

/** GetParameters takes at most 10 names. */
export const PARAMETERS_PER_CALL = 10;

/** `name`, `name:version` or `name:label`, as GetParameters takes it. */
export function selectorOf(ref: ObjectRef): string {
  const pin = ref.objectVersion ?? ref.objectVersionLabel;
  return pin === undefined ? ref.objectName : `${ref.objectName}:${pin}`;
}

/**
 * Which parameter a name, ARN or selector designates: the name with a leading `/`, without the ARN prefix or
 * a `:version`/`:label` suffix (parameter names cannot hold `:`). `a`, `/a` and `arn:…:parameter/a` are one.
 */
export function parameterKey(nameArnOrSelector: string): string {
  const name = nameArnOrSelector.startsWith('arn:')
    ? nameArnOrSelector.slice(nameArnOrSelector.indexOf(':parameter') + ':parameter'.length)
    : nameArnOrSelector;
  const bare = name.split(':')[0]!;
  return bare.startsWith('/') ? bare : `/${bare}`;
}

/**
 * Groups refs (by index) into calls of at most 10 with each parameter at most once per call: ceil(M / 10)
 * calls, more only when one parameter is asked for with more selectors than that.
 */
export function planParameterCalls(refs: readonly ObjectRef[]): number[][] {
  const calls: { refs: number[]; keys: Set<string> }[] = [];
  refs.forEach((ref, i) => {
    const key = parameterKey(ref.objectName);
    let call = calls.find((c) => c.refs.length < PARAMETERS_PER_CALL && !c.keys.has(key));
    if (call === undefined) calls.push((call = { refs: [], keys: new Set() }));
    call.refs.push(i);
    call.keys.add(key);
  });
  return calls.map((c) => c.refs);
}

/** One outcome per ref of a call (each parameter once in it, see planParameterCalls). */
export function matchParameters(refs: readonly ObjectRef[], answer: GetParametersResult): Outcome[] {
  // Keys computed once per answer, not once per (ref, parameter) pair: every Mount of a storm matches the answer
  // it shares, so this runs refs × parameters times per Mount otherwise.
  const byKey = new Map<string, Parameter>();
  for (const parameter of answer.Parameters ?? []) {
    for (const name of [parameter.Name, parameter.ARN]) {
      if (name === undefined) continue;
      const key = parameterKey(name);
      if (!byKey.has(key)) byKey.set(key, parameter);
    }
  }
  const invalid = new Set((answer.InvalidParameters ?? []).map(parameterKey));
  return refs.map((ref): Outcome => {
    const key = parameterKey(ref.objectName);
    const found = byKey.get(key);
    if (found !== undefined) {
      const value = Buffer.from(found.Value ?? '', 'utf8');
      return { ok: true, fetched: { value, version: found.Version === undefined ? '' : String(found.Version) } };
    }
    const error = invalid.has(key)
      ? new AnswerError(INVALID_PARAMETERS, `AWS listed "${selectorOf(ref)}" in InvalidParameters`)
      : new AnswerError(MISSING_FROM_ANSWER, 'the answer held neither the parameter nor an InvalidParameters entry');
    return { ok: false, error, action: 'GetParameters' };
  });
}

async function getParameters(refs: ObjectRef[], ctx: RegionContext): Promise<Outcome[]> {
  const command = new GetParametersCommand({ Names: refs.map(selectorOf), WithDecryption: true });
  try {
    const answer = await ctx.clients.shared.run(
      callKey('GetParameters', command.input),
      (signal) => ctx.clients.ssm.send(command, { abortSignal: signal }),
      ctx.signal,
    );
    return matchParameters(refs, answer);
  } catch (error) {
    return refs.map(() => ({ ok: false, error, action: 'GetParameters' }));
  }
}

/** Fetches every ref from the region; the outcomes are in the order of `refs`. */
export async function fetchParameters(refs: readonly ObjectRef[], ctx: RegionContext): Promise<Outcome[]> {
  const outcomes = new Array<Outcome>(refs.length);
  await Promise.all(
    planParameterCalls(refs).map(async (call) => {
      const answer = await ctx.limit(() => getParameters(call.map((i) => refs[i]!), ctx));
      call.forEach((i, k) => (outcomes[i] = answer[k]!));
    }),
  );
  return outcomes;
}
