/**
 * Wildcard objects (`/app/prod/*`, `prod/app/**`) for one region: every SSM parameter below a path through
 * GetParametersByPath, every secret whose name starts with a prefix through BatchGetSecretValue with a `name` filter,
 * page after page (NextToken). Each match keeps its own name, value and version. A wildcard stops at the first page
 * that takes it past `maxMatches`, so an entry that matches too much costs a bounded number of calls.
 */

import { BatchGetSecretValueCommand, ListSecretsCommand, type Filter, type Tag } from '@aws-sdk/client-secrets-manager';
import { GetParametersByPathCommand } from '@aws-sdk/client-ssm';
import { describeObject, type ObjectSpec, type Wildcard } from '../config/types.js';
import { ProviderError } from '../errors.js';
import { fetchSecrets, toFetched } from './secretsManager.js';
import { callKey } from './sharedCalls.js';
import type { AwsAction, FetchedMember, Outcome, RegionContext } from './types.js';

/** The most GetParametersByPath returns per page. */
const PARAMETERS_PER_PAGE = 10;
/** The most BatchGetSecretValue returns per page with Filters. */
const SECRETS_PER_PAGE = 20;
/** The most ListSecrets returns per page. */
const LISTED_PER_PAGE = 100;

type WildcardSpec = Pick<ObjectSpec, 'index' | 'primary' | 'objectType'> & { wildcard: Wildcard };

interface Page {
  matches: FetchedMember[];
  nextToken: string | undefined;
}

/** Every wildcard's matches from the region, one outcome per spec in order. */
export function fetchWildcards(specs: readonly WildcardSpec[], ctx: RegionContext): Promise<Outcome[]> {
  return Promise.all(specs.map((spec) => fetchWildcard(spec, ctx)));
}

async function fetchWildcard(spec: WildcardSpec, ctx: RegionContext): Promise<Outcome> {
  if (spec.wildcard.tags !== undefined) return fetchTagged(spec, ctx);
  const ssm = spec.objectType === 'ssmparameter';
  const action: AwsAction = ssm ? 'GetParametersByPath' : 'BatchGetSecretValue (name filter)';
  const matches: FetchedMember[] = [];
  try {
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const page = await ctx.limit(() => (ssm ? parametersPage(spec.wildcard, token, ctx) : secretsPage(spec.wildcard, token, ctx)));
      matches.push(...page.matches);
      if (matches.length > ctx.maxMatches) return { ok: false, error: tooMany(spec, ctx), action };
      nextToken = page.nextToken;
    } while (nextToken);
  } catch (error) {
    return { ok: false, error, action };
  }
  if (matches.length === 0 && !spec.wildcard.allowEmpty) return { ok: false, error: noMatch(spec, ctx), action };
  return { ok: true, fetched: { value: Buffer.alloc(0), version: '', members: matches } };
}

async function parametersPage(wildcard: Wildcard, nextToken: string | undefined, ctx: RegionContext): Promise<Page> {
  const command = new GetParametersByPathCommand({
    // The path without its trailing "/", which GetParametersByPath does not take (the root aside).
    Path: wildcard.prefix === '/' ? '/' : wildcard.prefix.slice(0, -1),
    Recursive: wildcard.recursive,
    WithDecryption: true,
    MaxResults: PARAMETERS_PER_PAGE,
    NextToken: nextToken,
  });
  const answer = await ctx.clients.shared.run(
    callKey('GetParametersByPath', command.input),
    (signal) => ctx.clients.ssm.send(command, { abortSignal: signal }),
    ctx.signal,
  );
  const matches = (answer.Parameters ?? []).flatMap((parameter): FetchedMember[] => {
    const name = below(parameter.Name ?? '', wildcard);
    if (name === undefined) return [];
    const version = parameter.Version === undefined ? '' : String(parameter.Version);
    return [{ name, value: Buffer.from(parameter.Value ?? '', 'utf8'), version }];
  });
  return { matches, nextToken: answer.NextToken };
}

async function secretsPage(wildcard: Wildcard, nextToken: string | undefined, ctx: RegionContext): Promise<Page> {
  const command = new BatchGetSecretValueCommand({
    Filters: [{ Key: 'name', Values: [wildcard.prefix] }],
    MaxResults: SECRETS_PER_PAGE,
    NextToken: nextToken,
  });
  const answer = await ctx.clients.shared.run(
    callKey('BatchGetSecretValue', command.input),
    (signal) => ctx.clients.secretsManager.send(command, { abortSignal: signal }),
    ctx.signal,
  );
  // AWS's name filter is its own kind of prefix match: only names that start with the prefix exactly (at the
  // wildcard's depth) are kept.
  const matches = (answer.SecretValues ?? []).flatMap((entry): FetchedMember[] => {
    const name = below(entry.Name ?? '', wildcard);
    return name === undefined ? [] : [{ name, ...toFetched(entry) }];
  });
  return { matches, nextToken: answer.NextToken };
}

/**
 * A secret wildcard with tags: AWS's tag filters match keys and values apart and by prefix, so the secrets are listed
 * (ListSecrets, which answers their tags) and kept only when they carry every tag exactly; their values then come as
 * any secrets' do, 20 a BatchGetSecretValue call.
 */
async function fetchTagged(spec: WildcardSpec, ctx: RegionContext): Promise<Outcome> {
  const listed: { name: string; arn: string }[] = [];
  try {
    let nextToken: string | undefined;
    do {
      const command = new ListSecretsCommand({ Filters: tagFilters(spec.wildcard), MaxResults: LISTED_PER_PAGE, NextToken: nextToken });
      const answer = await ctx.limit(() =>
        ctx.clients.shared.run(
          callKey('ListSecrets', command.input),
          (signal) => ctx.clients.secretsManager.send(command, { abortSignal: signal }),
          ctx.signal,
        ),
      );
      for (const entry of answer.SecretList ?? []) {
        const name = below(entry.Name ?? '', spec.wildcard);
        if (name !== undefined && entry.ARN !== undefined && carries(entry.Tags, spec.wildcard)) listed.push({ name, arn: entry.ARN });
      }
      if (listed.length > ctx.maxMatches) return { ok: false, error: tooMany(spec, ctx), action: 'ListSecrets' };
      nextToken = answer.NextToken;
    } while (nextToken);
  } catch (error) {
    return { ok: false, error, action: 'ListSecrets' };
  }
  if (listed.length === 0 && !spec.wildcard.allowEmpty) return { ok: false, error: noMatch(spec, ctx), action: 'ListSecrets' };
  const outcomes = await fetchSecrets(listed.map(({ arn }) => ({ objectName: arn })), ctx);
  const members: FetchedMember[] = [];
  for (const [i, outcome] of outcomes.entries()) {
    if (!outcome.ok) return outcome;
    members.push({ name: listed[i]!.name, ...outcome.fetched });
  }
  return { ok: true, fetched: { value: Buffer.alloc(0), version: '', members } };
}

/** What AWS can narrow the listing by; `carries` then decides exactly. Empty values are no filter value. */
function tagFilters({ prefix, tags = [] }: Wildcard): Filter[] {
  const values = tags.map((tag) => tag.value).filter((value) => value !== '');
  return [
    ...(prefix === '' ? [] : [{ Key: 'name' as const, Values: [prefix] }]),
    { Key: 'tag-key', Values: tags.map((tag) => tag.key) },
    ...(values.length === 0 ? [] : [{ Key: 'tag-value' as const, Values: values }]),
  ];
}

function carries(tags: readonly Tag[] | undefined, wildcard: Wildcard): boolean {
  return (wildcard.tags ?? []).every((wanted) => (tags ?? []).some((tag) => tag.Key === wanted.key && tag.Value === wanted.value));
}

/**
 * The name below the wildcard's path or after its prefix (leading `/` dropped), or undefined when it is not a match:
 * another prefix, or deeper than one level for `*`.
 */
export function below(name: string, wildcard: Pick<Wildcard, 'prefix' | 'recursive'>): string | undefined {
  if (!name.startsWith(wildcard.prefix)) return undefined;
  const rest = name.slice(wildcard.prefix.length).replace(/^\/+/, '');
  return wildcard.recursive || !rest.includes('/') ? rest : undefined;
}

function what(spec: WildcardSpec): string {
  const { prefix, recursive, tags } = spec.wildcard;
  const depth = recursive ? 'at any depth' : 'one level down (** for any depth)';
  if (spec.objectType === 'ssmparameter') return `parameters under path ${prefix} ${depth}`;
  const tagged = tags === undefined ? '' : ` tagged ${tags.map((tag) => `${tag.key}=${tag.value}`).join(', ')}`;
  return `secrets whose name starts with "${prefix}"${tagged}, ${depth}`;
}

function tooMany(spec: WildcardSpec, ctx: RegionContext): ProviderError {
  return new ProviderError(
    'InvalidSecretProviderClass',
    `${describeObject(spec)}: more than ${ctx.maxMatches} ${what(spec)} in ${ctx.region}, the most one objects entry ` +
      'may write (--max-files-per-entry). Narrow the wildcard, or raise the flag.',
  );
}

function noMatch(spec: WildcardSpec, ctx: RegionContext): ProviderError {
  return new ProviderError(
    'ObjectNotFound',
    `${describeObject(spec)}: no ${what(spec)} in ${ctx.region} that the pod's role may read. Check objectName, ` +
      'objectType and region, or set allowEmpty: true if an empty match is expected.',
  );
}
