/**
 * `check --fetch`: a class's objects resolved as a Mount resolves them (src/mount/mount.ts: region, ARN regions,
 * then fetch with failover, extract and render), signed with the caller's own credentials instead of a pod's.
 */
import { STSClient } from '@aws-sdk/client-sts';
import type { AwsIdentity } from '../auth/identity.js';
import { FLAG_DEFAULTS } from '../config/flags.js';
import { checkArnRegions } from '../config/objects.js';
import type { MountConfig } from '../config/types.js';
import { ProviderError } from '../errors.js';
import type { MountCore } from '../mount/core.js';
import { fetchAndRender } from '../mount/mount.js';
import { resolveRegion } from '../mount/region.js';
import type { ProviderMetrics } from '../observability/metrics.js';
import type { CheckOptions, CliIo } from './io.js';
import type { FoundClass } from './documents.js';

/** Who `--fetch` acts as: the AWS SDK's default chains (env, profile, SSO, web identity, instance role), as the AWS CLI. */
export interface CallerIdentity {
  identity(): Promise<AwsIdentity>;
  /** `--region`, else the SDK's (AWS_REGION, the profile's); undefined when none is set anywhere. */
  region(): Promise<string | undefined>;
}

export function callerIdentity(options: Pick<CheckOptions, 'profile' | 'region'>): CallerIdentity {
  // Never sends a request: its configuration resolves the SDK's default chains, and nothing else does here.
  const sdk = new STSClient({ ...(options.profile !== undefined && { profile: options.profile }) });
  let identity: Promise<AwsIdentity> | undefined;
  return {
    identity: () =>
      (identity ??= sdk.config.credentials().then(
        (credentials) => ({
          key: JSON.stringify(['check', options.profile ?? null]),
          credentials,
          description: options.profile === undefined ? 'your AWS credentials' : `AWS profile ${options.profile}`,
        }),
        (err: unknown) => {
          throw new ProviderError(
            'Internal',
            `no AWS credentials for --fetch (${(err as Error).message.split('\n')[0]}): set AWS_PROFILE or --profile, ` +
              'or the AWS_ACCESS_KEY_ID family, as for the AWS CLI',
          );
        },
      )),
    region: async () => options.region ?? (await sdk.config.region().catch(() => undefined)),
  };
}

/** Fetches one valid class and prints its files and the IAM actions used; false when the fetch failed. */
export async function fetchClass(
  found: FoundClass,
  config: MountConfig,
  core: MountCore,
  metrics: ProviderMetrics,
  caller: CallerIdentity,
  options: CheckOptions,
  io: CliIo,
): Promise<boolean> {
  try {
    const fallback = await caller.region();
    if (config.region === undefined && fallback === undefined) {
      throw new ProviderError(
        'RegionNotFound',
        'no region: the SecretProviderClass sets no "region" parameter (a Mount would take the provider\'s ' +
          "AWS_REGION or the node's region label); give --region or set AWS_REGION",
      );
    }
    // As a Mount: the class's region first, then the provider's (here, the caller's), with the same checks.
    const region = await resolveRegion(config, fallback, core.dependencies.cluster);
    checkArnRegions(config, region);
    metrics.awsCalls.reset();
    const identity = await caller.identity();
    const signal = AbortSignal.timeout(FLAG_DEFAULTS.mountTimeoutMs);
    const { response, sources } = await fetchAndRender(config, region, identity, core.dependencies, signal);
    const regionOf = new Map<string, string>();
    config.objects.forEach((spec, i) => {
      const from = sources[i]?.region ?? region;
      for (const path of [spec.fileName, ...spec.jmesPath.map((entry) => entry.fileName)]) regionOf.set(path, from);
    });
    const versionOf = new Map(response.objectVersion.map(({ id, version }) => [id, version]));
    const rows = response.files.map((file) => [
      file.path,
      `0${file.mode.toString(8).padStart(3, '0')}`,
      String(file.contents.length),
      versionOf.get(file.path) ?? '',
      regionOf.get(file.path) ?? [...new Set(sources.map((source) => source.region))].join(' or '),
    ]);
    io.stdout.write(`${found.where}: fetched as ${identity.description} from ${region}\n`);
    io.stdout.write(table(['FILE', 'MODE', 'SIZE', 'VERSION', 'REGION'], rows));
    if (options.showValues) {
      for (const file of response.files) io.stdout.write(`--- ${file.path}\n${file.contents.toString('utf8')}\n`);
    }
    io.stdout.write(`${found.where}: ${await iamActions(metrics, config)}\n`);
    return true;
  } catch (err) {
    if (!(err instanceof ProviderError)) throw err;
    // As the pod's event reads it (src/server/status.ts).
    io.stdout.write(`${found.where}: ${err.code}: ${err.message}\n`);
    return false;
  }
}

/** The calls that answered, as IAM names them: what a pod's role must allow for this class. */
async function iamActions(metrics: ProviderMetrics, config: MountConfig): Promise<string> {
  const { values } = await metrics.awsCalls.get();
  const actions = [
    ...new Set(values.filter((value) => value.labels.outcome === 'ok').map(({ labels }) => `${labels.service}:${labels.action}`)),
  ].sort();
  const used = `IAM actions used: ${actions.join(', ')}`;
  if (config.assumeRoleArn === undefined) return `${used} (a pod's role needs them)`;
  return (
    `${used}; a pod's role needs sts:AssumeRole on ${config.assumeRoleArn}, and that role these actions ` +
    '(this fetch signed with your credentials, it assumed no role)'
  );
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line), ''].join('\n');
}
