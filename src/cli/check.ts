/**
 * `aws-secrets-csi-provider check`: SecretProviderClasses validated by the Mount's own parse stage, built by the
 * Mount's composition root (src/mount/core.ts), so each problem reads as the pod's event would; with `--fetch`, every
 * object resolved through the Mount's fetch, extract and render stages with the caller's own AWS credentials.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { FLAG_DEFAULTS } from '../config/flags.js';
import type { MountRequestFields } from '../config/mountRequest.js';
import { ProviderError } from '../errors.js';
import { createMountCore, type MountCore } from '../mount/core.js';
import { parseStage } from '../mount/mount.js';
import { ProviderMetrics } from '../observability/metrics.js';
import { readProviderVersion } from '../shippedFile.js';
import { findClasses, UnreadableInput, type FoundClass } from './documents.js';
import { fetchClass, callerIdentity, type CallerIdentity } from './fetch.js';
import type { CheckOptions, CliIo } from './io.js';

export const CHECK_USAGE = `Usage: aws-secrets-csi-provider check [options] [FILE…]

Checks every SecretProviderClass with provider: aws in the YAML files (several documents, or a List as
\`kubectl get secretproviderclasses -o yaml\` writes it; "-" or no FILE reads stdin) with the provider's own
rules, and prints each problem as a Mount would report it. Classes of other providers are skipped with a warning.
Reaches no cluster; reaches AWS only with --fetch.

Options:
  --fetch          also fetch every object as a Mount would, with your own AWS credentials, and print the files
                   (path, mode, size, version, region) and the IAM actions a pod's role needs; never a value
  --region NAME    with --fetch: the region of a class that names none (default: the AWS SDK's, e.g. AWS_REGION)
  --profile NAME   with --fetch: the AWS profile to use (default: the AWS SDK's default credential chain)
  --show-values    with --fetch: print the values too (they are secrets: mind your terminal and logs)
  -h, --help       print this help

Exit status: 0 all valid (and fetched), 1 a class is invalid (or its fetch failed), 2 unreadable input or usage.
`;

/** What the driver sends besides the class's parameters: a made-up pod, so the parse stage sees a whole request. */
const POD_ATTRIBUTES = {
  'csi.storage.k8s.io/pod.name': 'check',
  'csi.storage.k8s.io/pod.namespace': 'check',
  'csi.storage.k8s.io/pod.uid': '00000000-0000-4000-8000-000000000000',
  'csi.storage.k8s.io/serviceAccount.name': 'check',
};
/** The volume's default file mode, 0644, as the driver sends it when the pod sets no filePermission. */
const DEFAULT_PERMISSION = '420';

/** Runs the command; resolves with the exit status. */
export async function runCheck(args: string[], io: CliIo, jmesPathWorker: URL): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        fetch: { type: 'boolean', default: false },
        region: { type: 'string' },
        profile: { type: 'string' },
        'show-values': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    io.stderr.write(`${(err as Error).message}\n\n${CHECK_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout.write(CHECK_USAGE);
    return 0;
  }
  const options: CheckOptions = {
    fetch: values.fetch,
    region: values.region,
    profile: values.profile,
    showValues: values['show-values'],
  };
  if (!options.fetch && (options.region !== undefined || options.profile !== undefined || options.showValues)) {
    io.stderr.write(`--region, --profile and --show-values go with --fetch\n\n${CHECK_USAGE}`);
    return 2;
  }
  if (options.showValues) io.stderr.write('warning: --show-values prints secret values; mind where this output goes\n');

  const classes: FoundClass[] = [];
  let unreadable = false;
  for (const file of positionals.length > 0 ? positionals : ['-']) {
    const source = file === '-' ? 'stdin' : file;
    try {
      const text = file === '-' ? await readStream(io.stdin) : await readFile(file, 'utf8');
      classes.push(...findClasses(text, source));
    } catch (err) {
      unreadable = true;
      const reason = err instanceof UnreadableInput ? err.message : `${source}: cannot be read: ${(err as Error).message}`;
      io.stderr.write(`${reason}\n`);
    }
  }

  const metrics = options.fetch ? new ProviderMetrics() : undefined;
  const { name, version } = readProviderVersion();
  const core = createMountCore(FLAG_DEFAULTS, {
    coreApi: () => Promise.reject(new Error('check reaches no cluster')),
    jmesPathWorker,
    providerRegion: undefined,
    // CloudTrail tells a dry run from the provider's own calls.
    userAgent: `${name}/${version} check/${options.fetch ? 'fetch' : 'parse'}`,
    ...(metrics !== undefined && { metrics }),
  });
  try {
    let caller: CallerIdentity | undefined;
    let invalid = false;
    let checked = 0;
    for (const found of classes) {
      if (found.provider !== 'aws') {
        io.stderr.write(`${found.where}: warning: skipped, its provider is ${JSON.stringify(found.provider ?? null)}, not aws\n`);
        continue;
      }
      checked++;
      const valid = checkClass(found, core, io);
      if (valid && options.fetch) {
        caller ??= callerIdentity(options);
        if (!(await fetchClass(found, valid, core, metrics!, caller, options, io))) invalid = true;
      }
      if (!valid) invalid = true;
    }
    if (checked === 0 && !unreadable) io.stderr.write('warning: no SecretProviderClass with provider: aws found\n');
    return unreadable ? 2 : invalid ? 1 : 0;
  } finally {
    await core.close();
  }
}

/** The class through the Mount's parse stage: the config when valid, after printing its warnings; else undefined. */
function checkClass(found: FoundClass, core: MountCore, io: CliIo) {
  if (found.shapeProblem !== undefined) {
    io.stdout.write(`${found.where}: ${found.shapeProblem}\n`);
    return undefined;
  }
  try {
    const config = parseStage(mountRequest(found), core.dependencies);
    for (const warning of config.warnings) io.stderr.write(`${found.where}: warning: ${warning}\n`);
    const files = config.objects.reduce((sum, spec) => sum + 1 + spec.jmesPath.length, 0);
    io.stdout.write(`${found.where}: valid (${plural(config.objects.length, 'object')}, ${plural(files, 'file')})\n`);
    return config;
  } catch (err) {
    if (!(err instanceof ProviderError)) throw err;
    // As the pod's event reads it (src/server/status.ts).
    io.stdout.write(`${found.where}: ${err.code}: ${err.message}\n`);
    return undefined;
  }
}

/** The MountRequest the driver would send for a pod of this class: its parameters with the pod's attributes. */
function mountRequest(found: FoundClass): MountRequestFields {
  return {
    attributes: JSON.stringify({ ...found.parameters, ...POD_ATTRIBUTES, secretProviderClass: found.name }),
    secrets: 'null',
    targetPath: '/var/lib/kubelet/pods/00000000-0000-4000-8000-000000000000/volumes/kubernetes.io~csi/check/mount',
    permission: DEFAULT_PERMISSION,
  };
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

async function readStream(stream: AsyncIterable<string | Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}
