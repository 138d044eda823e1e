/**
 * `npm run bench`: a load generator that plays the Secrets Store CSI driver over a provider's Unix socket,
 * against moto behind the fault proxy (a delay injected on every AWS call, STS included) and the real
 * kube-apiserver. It drives our provider (started here from the built entry point), and any other provider
 * already listening on a socket (`--provider-socket`), through the same scenarios, the same seeded data and
 * the same proxy, so the figures stand side by side. With S2 and our provider, it also runs S2's reference
 * (transportFloor.ts): the same storms answered by our gRPC server doing nothing but one wait of the floor. Before
 * any storm is timed, the load generator sends two to a server that answers at once, so that no provider's first
 * storm carries the load generator's own first run. Prints a table with each target and writes JSON to
 * bench-results/.
 *
 *   npm run bench -- [--delay-ms 20] [--iterations 10] [--storm-pods 100] [--storm-rounds 3] [--only s1,s2,s3,s4,s5]
 *                    [--provider-socket PATH [--provider-pid PID] [--provider-metrics URL] [--provider-name NAME]
 *                     [--provider-command 'exec ascp --provider-volume=DIR …'] [--skip-ours]]
 *                    [--s3-accounts 20] [--s3-pods-per-account 10] [--s3-rounds 3] [--s3-idle-seconds 40]
 *                    [--proxy-port PORT] [--wait-seconds 600] [--starts 9] [--no-build] [--tsx-starts 3]
 *                    [--node-options="--import=/tmp/profiler.mjs"] [--node PATH] [--entrypoint-options="--max-opt=1 …"]
 *                    [--without-compile-cache] [--s6-nodes 1000] [--s6-compression 60] [--s6-polls 12]
 *                    [--s6-ssm-quota 40]
 *
 * S6 (`--only s6`, not in the default set) runs the node-of-a-large-cluster simulation of s6.ts: our provider is
 * started for it with its rotation cache scaled to the compressed time, another provider (--provider-socket) as it is.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connectDriverClient } from '../harness/driverClient.js';
import { imageCompileCacheDir, imageNodeOptions } from '../harness/imageCommand.js';
import { startProvider, type RunningProvider } from '../harness/provider.js';
import { measureFloor, type Floor } from './floor.js';
import { MountClient } from './mountClient.js';
import { runScenarios, type BenchOptions, type Target, type TargetResults } from './scenarios.js';
import { measureStartups, type StartupResult } from './startup.js';
import { measureTransportFloor, warmLoadGenerator, type TransportFloor } from './transportFloor.js';
import { runS6, type S6Options, type S6Result } from './s6.js';
import { startWorld, type World } from './world.js';

const ROOT = new URL('../../', import.meta.url).pathname;

const { values: args } = parseArgs({
  options: {
    'delay-ms': { type: 'string', default: '20' },
    iterations: { type: 'string', default: '10' },
    'storm-pods': { type: 'string', default: '100' },
    'storm-rounds': { type: 'string', default: '3' },
    's3-accounts': { type: 'string', default: '20' },
    's3-pods-per-account': { type: 'string', default: '10' },
    's3-rounds': { type: 'string', default: '3' },
    's3-idle-seconds': { type: 'string', default: '40' },
    only: { type: 'string', default: 's1,s2,s3,s4,s5' },
    'provider-socket': { type: 'string' },
    'provider-pid': { type: 'string' },
    /**
     * A shell command that starts the other provider, run once the proxy and the apiserver are up, with
     * AWS_ENDPOINT_URL, KUBECONFIG and AWS_REGION in its env; with `exec` its process id is the provider's (S3).
     */
    'provider-command': { type: 'string' },
    'provider-metrics': { type: 'string' },
    'provider-name': { type: 'string', default: 'other' },
    'skip-ours': { type: 'boolean', default: false },
    'proxy-port': { type: 'string' },
    'wait-seconds': { type: 'string', default: '600' },
    starts: { type: 'string', default: '9' },
    'tsx-starts': { type: 'string', default: '3' },
    'no-build': { type: 'boolean', default: false },
    /** NODE_OPTIONS for our provider, e.g. --node-options="--max-semi-space-size=1" or "--import=/path/profiler.mjs". */
    'node-options': { type: 'string' },
    /** The node binary that runs our built provider (S1–S5); default: the image's Node.js, a pinned test peer. */
    node: { type: 'string' },
    /**
     * Node options of our provider in place of the Dockerfile ENTRYPOINT's, space-separated, as the chart's nodeOptions
     * replace them: e.g. for a Node 24 `--node`, which rejects --experimental-async-context-frame.
     */
    'entrypoint-options': { type: 'string' },
    /** Our provider in S1–S4 without the image's compile cache, to weigh its memory (S5 starts both ways anyway). */
    'without-compile-cache': { type: 'boolean', default: false },
    's6-nodes': { type: 'string', default: '1000' },
    's6-compression': { type: 'string', default: '60' },
    's6-polls': { type: 'string', default: '12' },
    's6-ssm-quota': { type: 'string', default: '40' },
    help: { type: 'boolean', default: false },
  },
});

if (args.help) {
  const header = /\/\*\*([\s\S]*?)\*\//.exec(
    (await import('node:fs')).readFileSync(new URL(import.meta.url).pathname, 'utf8'),
  )?.[1];
  console.log(header?.replace(/^ \* ?/gm, '').trim());
  process.exit(0);
}

const int = (name: keyof typeof args) => {
  const value = Number(args[name]);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a whole number, got ${args[name]}`);
  return value;
};

const options: BenchOptions = {
  delayMs: int('delay-ms'),
  iterations: Math.max(1, int('iterations')),
  stormPods: Math.max(1, int('storm-pods')),
  stormRounds: Math.max(1, int('storm-rounds')),
  s3Accounts: Math.max(1, int('s3-accounts')),
  s3PodsPerAccount: Math.max(1, int('s3-pods-per-account')),
  s3Rounds: Math.max(1, int('s3-rounds')),
  s3IdleSeconds: int('s3-idle-seconds'),
};
const only = new Set((args.only ?? '').split(',').map((s) => s.trim().toLowerCase()));
const log = (line: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

interface Report {
  startedAt: string;
  machine: { cpus: number; cpuModel: string; memoryGb: number; loadAverageAtStart: number[]; node: string; providerNode: string; providerNodeOptions: string };
  options: BenchOptions;
  targets: Record<string, TargetResults>;
  startup?: { built?: StartupResult; uncached?: StartupResult; tsx?: StartupResult };
  /** The same AWS calls made directly with the SDK through the same proxy: the latency no provider can beat. */
  floor?: Floor;
  /** S2 answered by our gRPC server whose Mount only waits the floor's chain time: what HTTP/2 and gRPC add here. */
  reference?: TransportFloor;
  /** S6 by provider name. */
  s6?: Record<string, S6Result>;
}

async function main(): Promise<void> {
  // This machine runs Node 20 on purpose; the SDK's reminder about Node 22 is noise in the bench's output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const report: Report = {
    startedAt: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? '?',
      memoryGb: Math.round(totalmem() / 2 ** 30),
      loadAverageAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
      node: process.version,
      providerNode: '',
      providerNodeOptions: '',
    },
    options,
    targets: {},
  };
  const entry = join(ROOT, 'dist/src/main.js');
  if (!args['no-build']) {
    log('npm run build …');
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run npm run build`);

  const proxyPort = args['proxy-port'] === undefined ? undefined : int('proxy-port');
  const world = await startWorld({ proxyPort, log });
  const node = args.node ?? world.imageNode;
  const nodeOptions = args['entrypoint-options']?.split(/\s+/).filter(Boolean) ?? imageNodeOptions();
  report.machine.providerNode = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
  report.machine.providerNodeOptions = [...nodeOptions, ...(args['without-compile-cache'] ? ['no compile cache'] : [])].join(' ');
  const providers: RunningProvider[] = [];
  const clients: MountClient[] = [];
  const others: ChildProcess[] = [];
  try {
    log(`fault proxy ${world.proxy.url} (moto ${world.motoUrl}), ${options.delayMs} ms on every AWS call`);
    log(`kubeconfig ${world.kubeconfigPath}`);
    world.setDelay(options.delayMs);
    const s6Options: S6Options = {
      nodes: Math.max(1, int('s6-nodes')),
      compression: Math.max(1, int('s6-compression')),
      pollSeconds: 120,
      polls: Math.max(5, int('s6-polls')),
      ssmQuota: Math.max(1, int('s6-ssm-quota')),
    };
    const s6 = async (name: string, client: MountClient) => {
      report.s6 = { ...report.s6, [name]: await runS6(world, { name, client }, s6Options, log) };
      world.setDelay(options.delayMs);
    };
    report.floor = await measureFloor(world, 5);
    const { firstMs, repeatMs, chainMs } = report.floor;
    log(`floor: the calls made directly take ${firstMs} ms (first) / ${repeatMs} ms (repeat) / ${chainMs} ms (ServiceAccount GET first)`);
    if (only.has('s2') || only.has('s3')) {
      log('warming the load generator: two storms answered at once by a waiting server …');
      await warmLoadGenerator(world, { node, nodeOptions, options, log });
    }

    // As the image's build does: a compile cache made by this node with the image's node options, which the image
    // runs with (S5 also starts without it).
    const compileCache = imageCompileCacheDir();
    if (!args['skip-ours']) {
      execFileSync(node, [...nodeOptions, join(ROOT, 'scripts/compile-cache.mjs'), compileCache], { stdio: ['ignore', 'ignore', 'inherit'] });
      const ours = await startProvider({
        kubeconfigPath: world.kubeconfigPath,
        entry,
        node,
        nodeOptions,
        // Default flags and log level (one info line per Mount), as production runs it.
        env: { AWS_ENDPOINT_URL: world.proxy.url, NODE_COMPILE_CACHE: args['without-compile-cache'] ? undefined : compileCache, NODE_OPTIONS: args['node-options'] },
      });
      providers.push(ours);
      const client = await MountClient.connect(ours.socketPath);
      clients.push(client);
      const target: Target = { name: 'ours', client, metricsUrl: ours.metricsUrl, pid: ours.process.pid };
      report.targets.ours = await runScenarios(world, target, options, only, log);
      await ours.stop();
      if (only.has('s6')) {
        // The rotation cache's TTL and grace in compressed time, as the driver's poll interval is (defaults 2m, 10m), and
        // the Kubernetes client's rate (--qps 5, --burst 10, ASCP's defaults too) as fast as the quotas: run another
        // provider with its own rate scaled the same way (docs/performance.md).
        const seconds = (s: number) => `${(s / s6Options.compression).toFixed(3)}s`;
        const scaled = await startProvider({
          kubeconfigPath: world.kubeconfigPath,
          entry,
          node,
          nodeOptions,
          args: [
            `--rotation-cache-ttl=${seconds(120)}`,
            `--rotation-cache-grace=${seconds(600)}`,
            `--qps=${5 * s6Options.compression}`,
            `--burst=${10 * s6Options.compression}`,
          ],
          env: { AWS_ENDPOINT_URL: world.proxy.url, NODE_COMPILE_CACHE: compileCache },
        });
        providers.push(scaled);
        const scaledClient = await MountClient.connect(scaled.socketPath);
        clients.push(scaledClient);
        await s6('ours', scaledClient);
        await scaled.stop();
      }
      if (only.has('s2')) {
        log(`S2 reference: our gRPC server answering after one wait of ${chainMs} ms a storm …`);
        report.reference = await measureTransportFloor(world, { node, nodeOptions, waitMs: chainMs, options, log });
      }
    }

    const socket = args['provider-socket'];
    if (socket !== undefined) {
      const name = args['provider-name'] ?? 'other';
      let pid = args['provider-pid'] === undefined ? undefined : int('provider-pid');
      const command = args['provider-command'];
      if (command !== undefined) {
        const other = startOther(command, world);
        others.push(other);
        pid ??= other.pid;
      }
      await waitForProvider(socket, world, int('wait-seconds'));
      const client = await MountClient.connect(socket);
      clients.push(client);
      const target: Target = { name, client, metricsUrl: args['provider-metrics'], pid };
      report.targets[name] = await runScenarios(world, target, options, only, log);
      if (only.has('s6')) await s6(name, client);
    }

    if (only.has('s5') && !args['skip-ours']) {
      world.setDelay(0);
      log('S5: starts of the built entry point, with the compile cache and without, in turns …');
      const built = { node, nodeArgs: [...nodeOptions, entry] };
      const { cached, uncached } = await measureStartups(
        { cached: { ...built, env: { NODE_COMPILE_CACHE: compileCache } }, uncached: built },
        int('starts'),
        world.kubeconfigPath,
        world.proxy.url,
      );
      const tsxStarts = int('tsx-starts');
      let tsx: StartupResult | undefined;
      if (tsxStarts > 0) {
        log('S5: starts from source through tsx …');
        ({ tsx } = await measureStartups({ tsx: { node: process.execPath, nodeArgs: ['--import', 'tsx', join(ROOT, 'src/main.ts')] } }, tsxStarts, world.kubeconfigPath, world.proxy.url));
      }
      report.startup = { built: cached, uncached, tsx };
    }
  } finally {
    for (const client of clients) client.close();
    for (const other of others) stopOther(other);
    for (const provider of providers) await provider.stop();
    await world.close();
  }

  const table = renderTable(report);
  console.log(table);
  const dir = join(ROOT, 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `bench-${report.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(dir, 'latest.md'), `${table}\n`);
  log(`wrote ${file}`);
}

/** Starts the other provider through the shell, in a process group of its own, its output on our stderr. */
function startOther(command: string, world: World): ChildProcess {
  log(`starting the other provider: ${command}`);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_ENDPOINT_URL: world.proxy.url,
    KUBECONFIG: world.kubeconfigPath,
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  // Its only AWS identity must be the pods' tokens, as in a cluster.
  for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE']) delete env[key];
  const child = spawn('sh', ['-c', command], { detached: true, stdio: ['ignore', 'inherit', 'inherit'], env });
  // Even when the bench dies of an error, the provider it started goes with it.
  process.once('exit', () => stopOther(child));
  return child;
}

function stopOther(other: ChildProcess): void {
  if (other.pid === undefined || other.exitCode !== null) return;
  try {
    process.kill(-other.pid, 'SIGTERM');
  } catch {
    // Already gone.
  }
}

/** Prints how to point a provider at this run's proxy and apiserver, then waits until its socket answers. */
async function waitForProvider(socketPath: string, world: World, waitSeconds: number): Promise<void> {
  console.error(
    [
      '',
      `Waiting for a provider on ${socketPath} (up to ${waitSeconds} s). Start it with:`,
      `  AWS_ENDPOINT_URL=${world.proxy.url}   (every AWS call, STS included, through the fault proxy)`,
      `  KUBECONFIG=${world.kubeconfigPath}   (or its --kubeconfig flag)`,
      `  AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY unset: it must use the pods' IRSA tokens`,
      `  its socket at ${socketPath} (ASCP: --provider-volume=<dir of the socket>; its socket is aws.sock)`,
      '',
    ].join('\n'),
  );
  const deadline = Date.now() + waitSeconds * 1000;
  for (;;) {
    if (existsSync(socketPath)) {
      const client = connectDriverClient(socketPath);
      const answered = await client.version().then(
        (v) => v,
        () => undefined,
      );
      client.close();
      if (answered) {
        log(`provider on ${socketPath}: ${answered.runtimeName} ${answered.runtimeVersion}`);
        return;
      }
    }
    if (Date.now() > deadline) throw new Error(`no provider answered Version on ${socketPath} within ${waitSeconds} s`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

type Verdict = { text: string; pass?: boolean };
type Row = { scenario: string; metric: string; target: string; value: (r: TargetResults) => Verdict | undefined };

const fmt = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? 'n/a' : String(n));
const check = (value: number | undefined, ok: (v: number) => boolean, text = fmt(value)): Verdict =>
  value === undefined || Number.isNaN(value) ? { text: 'n/a' } : { text, pass: ok(value) };
const actions = (byAction: Record<string, number>) =>
  Object.entries(byAction)
    .sort()
    .map(([action, n]) => `${action.replace(/^secretsmanager:/, 'sm:')}×${n}`)
    .join(' ');

function rows(delay: number, floor: Floor | undefined, reference: TransportFloor | undefined, idleSeconds: number): Row[] {
  const stormBudget = 3 * delay + 50;
  const saGets = (r: TargetResults) => r.s2?.kubeCallsByAudit?.serviceaccounts ?? r.s2?.kubeCallsByMetrics?.serviceaccounts;
  return [
    { scenario: 'S1 first', metric: 'latency p50 / p99 (ms)', target: '', value: (r) => r.s1 && { text: `${r.s1.first.latencyMs.p50} / ${r.s1.first.latencyMs.p99}` } },
    { scenario: 'S1 first', metric: 'SM+SSM calls', target: '≤ 3', value: (r) => r.s1 && check(r.s1.first.calls.fetch, (v) => v <= 3) },
    { scenario: 'S1 first', metric: 'STS calls', target: '≤ 1', value: (r) => r.s1 && check(r.s1.first.calls.sts, (v) => v <= 1) },
    { scenario: 'S1 first', metric: 'round trips (call waves; p50 latency ÷ delay)', target: '≤ 3', value: (r) => r.s1 && check(r.s1.first.waves, (v) => v <= 3, `${r.s1.first.waves} (${fmt(r.s1.first.latencyOverDelay)})`) },
    { scenario: 'S1 first', metric: 'floor: the same AWS calls made directly (ms)', target: '', value: () => floor && { text: fmt(floor.firstMs) } },
    { scenario: 'S1 first', metric: 'calls by action', target: '', value: (r) => r.s1 && { text: actions(r.s1.first.calls.byAction) } },
    { scenario: 'S1 repeat', metric: 'latency p50 / p99 (ms)', target: '', value: (r) => r.s1 && { text: `${r.s1.repeat.latencyMs.p50} / ${r.s1.repeat.latencyMs.p99}` } },
    { scenario: 'S1 repeat', metric: 'floor: the same AWS calls made directly (ms)', target: '', value: () => floor && { text: fmt(floor.repeatMs) } },
    { scenario: 'S1 repeat', metric: 'SM+SSM calls', target: '≤ 3', value: (r) => r.s1 && check(r.s1.repeat.calls.fetch, (v) => v <= 3) },
    { scenario: 'S1 repeat', metric: 'STS calls', target: '0', value: (r) => r.s1 && check(r.s1.repeat.calls.sts, (v) => v === 0) },
    { scenario: 'S1 repeat', metric: 'round trips (call waves; p50 latency ÷ delay)', target: '≤ 2', value: (r) => r.s1 && check(r.s1.repeat.waves, (v) => v <= 2, `${r.s1.repeat.waves} (${fmt(r.s1.repeat.latencyOverDelay)})`) },
    { scenario: 'S2 storm', metric: 'latency p50 / p99 (ms)', target: `p99 ≤ ${stormBudget}`, value: (r) => r.s2 && check(r.s2.latencyMs.p99, (v) => v <= stormBudget, `${r.s2.latencyMs.p50} / ${r.s2.latencyMs.p99}`) },
    { scenario: 'S2 storm', metric: 'slowest pod of each storm, in order (ms)', target: '', value: (r) => r.s2 && { text: r.s2.slowestPodMsByStorm.join(', ') } },
    { scenario: 'S2 storm', metric: 'floor: the ServiceAccount GET, STS and the fetch made directly (ms)', target: '', value: () => floor && { text: fmt(floor.chainMs) } },
    { scenario: 'S2 storm', metric: 'p99 above that floor (the provider\'s own share, ms)', target: '≤ 50', value: (r) => r.s2 && floor && check(Math.round(r.s2.latencyMs.p99 - floor.chainMs), (v) => v <= 50) },
    { scenario: 'S2 storm', metric: 'reference: the same storms answered by our gRPC server, its Mount only one shared wait of that floor: p50 / p99 (ms)', target: '', value: () => reference && { text: `${reference.latencyMs.p50} / ${reference.latencyMs.p99}` } },
    { scenario: 'S2 storm', metric: 'p99 above the reference (the Mount pipeline\'s own share, ms)', target: '', value: (r) => r.s2 && reference && { text: fmt(Math.round(r.s2.latencyMs.p99 - reference.latencyMs.p99)) } },
    { scenario: 'S2 storm', metric: 'AWS calls: total (SM+SSM / STS)', target: '', value: (r) => r.s2 && { text: `${r.s2.calls.total} (${r.s2.calls.fetch} / ${r.s2.calls.sts})` } },
    { scenario: 'S2 storm', metric: 'STS calls', target: '≤ 1', value: (r) => r.s2 && check(r.s2.calls.sts, (v) => v <= 1) },
    { scenario: 'S2 storm', metric: 'ServiceAccount GETs (apiserver audit, else metrics)', target: '≤ 2', value: (r) => r.s2 && check(saGets(r), (v) => v <= 2) },
    { scenario: 'S2 storm', metric: 'Kubernetes calls sa/pod/node: metrics · audit', target: '', value: (r) => r.s2 && { text: `${kube(r.s2.kubeCallsByMetrics)} · ${kube(r.s2.kubeCallsByAudit)}` } },
    { scenario: 'S3 storms', metric: 'peak RSS (MB, VmHWM)', target: '≤ 90', value: (r) => r.s3 && check(Math.max(r.s3.hwmMb, r.s3.peakRssMb), (v) => v <= 90) },
    { scenario: 'S3 storms', metric: `RSS before / after each storm / after ≤ ${idleSeconds} s idle (MB)`, target: 'back to ≤ before + 15', value: (r) => r.s3 && check(r.s3.rssAfterIdleMb - r.s3.rssBeforeMb, (v) => v <= 15, `${r.s3.rssBeforeMb} / ${r.s3.rssAfterRoundMb.join(', ')} / ${r.s3.rssAfterIdleMb}`) },
    { scenario: 'S3 storms', metric: 'CPU time per mount (ms)', target: '', value: (r) => r.s3 && { text: fmt(r.s3.cpuMsPerMount) } },
    { scenario: 'S3 storms', metric: 'latency p50 / p99 (ms)', target: '', value: (r) => r.s3 && { text: `${r.s3.latencyMs.p50} / ${r.s3.latencyMs.p99}` } },
    { scenario: 'S4 failover', metric: 'SM+SSM calls first / repeat (= S1)', target: '= S1', value: (r) => r.s4 && check(r.s4.first.calls.fetch + r.s4.repeat.calls.fetch, (v) => !r.s1 || v === r.s1.first.calls.fetch + r.s1.repeat.calls.fetch, `${r.s4.first.calls.fetch} / ${r.s4.repeat.calls.fetch}`) },
    { scenario: 'S4 failover', metric: 'calls to the failover region', target: '0', value: (r) => r.s4 && check(r.s4.failoverRegionCalls, (v) => v === 0) },
  ];
}

function s6Rows(report: Report, names: readonly string[]): string[][] {
  const s6 = report.s6;
  if (s6 === undefined) return [];
  const any = Object.values(s6)[0]!;
  const o = any.options;
  const pollTarget = any.pairs * any.callsPerFetch;
  const rotationTarget = o.pollSeconds + 120;
  const cell = (name: string, value: (r: S6Result) => { text: string; pass?: boolean }) => {
    const r = s6[name];
    if (r === undefined) return ['—', ''];
    const v = value(r);
    return [v.text, v.pass === undefined ? '' : v.pass ? 'PASS' : 'MISS'];
  };
  const row = (metric: string, target: string, value: (r: S6Result) => { text: string; pass?: boolean }) => [
    'S6 quotas',
    metric,
    target,
    ...names.flatMap((name) => cell(name, value)),
  ];
  const list = (record: Record<string, number>) =>
    Object.entries(record)
      .sort()
      .map(([k, n]) => `${k.replace(/^secretsmanager:/, 'sm:')} ${n}`)
      .join(', ') || '0';
  return [
    row(`quota per node (calls/s, ${o.nodes} nodes, time ×${o.compression})`, '', (r) => ({ text: list(r.quotaPerSecond) })),
    row('first mounts ok / failed (tries, failed ones tried again after kubelet\'s backoff)', '0 failed', (r) => ({ text: `${r.mounts.first.ok} / ${r.mounts.first.error}`, pass: r.mounts.first.error === 0 })),
    row('burst volumes without files at the end', '0', (r) => ({ text: String(r.volumesNeverMounted), pass: r.volumesNeverMounted === 0 })),
    row('first try → files, burst volumes (simulated s): median / max', '', (r) => ({ text: r.firstMountSeconds === undefined ? 'none mounted' : `${r.firstMountSeconds.median} / ${r.firstMountSeconds.max}` })),
    row('re-publishes ok / failed', '', (r) => ({ text: `${r.mounts.republish.ok} / ${r.mounts.republish.error}` })),
    row('failed Mounts by kind and code', '', (r) => ({ text: list(r.errors) })),
    row('throttled requests by action', '', (r) => ({ text: list(r.throttles) })),
    row('AWS requests per simulated second, by action', '', (r) => ({ text: list(r.callsPerSimulatedSecond) })),
    row('SM+SSM requests per poll interval after the burst', `≤ ${pollTarget} (pairs × calls per fetch)`, (r) => ({ text: String(r.fetchCallsPerPollAfterBurst), pass: r.fetchCallsPerPollAfterBurst <= pollTarget })),
    row('rotation → every pod answered with it (simulated s)', `≤ ${rotationTarget} (poll + TTL)`, (r) => ({ text: r.rotationToEveryPodSeconds === undefined ? `never (${r.volumesWithoutRotation} volumes)` : String(r.rotationToEveryPodSeconds), pass: r.rotationToEveryPodSeconds !== undefined && r.rotationToEveryPodSeconds <= rotationTarget })),
  ];
}

function kube(reads: Record<string, number> | undefined): string {
  return reads ? `${reads.serviceaccounts}/${reads.pods}/${reads.nodes}` : 'n/a';
}

function renderTable(report: Report): string {
  const names = Object.keys(report.targets);
  const header = ['scenario', 'metric', 'target', ...names.flatMap((n) => [n, ''])];
  const lines: string[][] = [];
  for (const row of rows(report.options.delayMs, report.floor, report.reference, report.options.s3IdleSeconds)) {
    const cells = names.flatMap((name) => {
      const v = row.value(report.targets[name]!);
      return v === undefined ? ['—', ''] : [v.text, v.pass === undefined ? '' : v.pass ? 'PASS' : 'MISS'];
    });
    if (cells.every((c) => c === '—' || c === '')) continue;
    lines.push([row.scenario, row.metric, row.target, ...cells]);
  }
  const startup = report.startup;
  if (startup?.built) {
    const pad = names.length > 1 ? names.slice(1).flatMap(() => ['—', '']) : [];
    const ok = startup.built.medianMs <= 400;
    lines.push(['S5 start', "start → Version answered, median (ms), node dist/src/main.js with the image's compile cache", '≤ 400', `${startup.built.medianMs} (${startup.built.samplesMs.join(', ')})`, ok ? 'PASS' : 'MISS', ...pad]);
    if (startup.uncached) lines.push(['S5 start', 'same, without a compile cache (other node options, another architecture)', '', `${startup.uncached.medianMs} (${startup.uncached.samplesMs.join(', ')})`, '', ...pad]);
    if (startup.tsx) lines.push(['S5 start', 'same, from source through tsx (ms)', '', `${startup.tsx.medianMs} (${startup.tsx.samplesMs.join(', ')})`, '', ...pad]);
  }
  const errors = names.flatMap((name) =>
    Object.entries(report.targets[name]!).flatMap(([scenario, result]) =>
      (result as { errors?: string[] }).errors?.length ? [`${name} ${scenario}: ${(result as { errors: string[] }).errors.length} failed mounts, first: ${(result as { errors: string[] }).errors[0]}`] : [],
    ),
  );
  lines.push(...s6Rows(report, names));
  const table = [header, header.map(() => '---'), ...lines].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
  const m = report.machine;
  const about =
    `${m.cpus} × ${m.cpuModel}, ${m.memoryGb} GB, bench on Node ${m.node}, provider on Node ${m.providerNode} (${m.providerNodeOptions}), load average at start ${m.loadAverageAtStart.join(' ')}; ` +
    `${report.options.delayMs} ms injected on every AWS call; ${report.options.iterations} iterations (p99 of few samples is their maximum)`;
  return [table, '', about, ...errors.map((e) => `ERROR ${e}`)].join('\n');
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
