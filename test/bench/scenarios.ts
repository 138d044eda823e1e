/**
 * The scenarios S1–S4, each played against one provider over its socket, exactly as the driver calls it. Every
 * scenario uses identities (ServiceAccounts) of its own, so no scenario starts with another's caches warm.
 */
import { mountRequest } from '../fixtures/mountRequest.js';
import { stringify } from 'yaml';
import {
  callWaves,
  countCalls,
  fetchMetrics,
  kubernetesCalls,
  median,
  percentile,
  procCpuMs,
  procMemory,
  sampleMemory,
  type CallCounts,
} from './measure.js';
import type { MountResponseMessage } from '../../src/server/proto.js';
import type { MountClient } from './mountClient.js';
import { benchObjects } from './spc.js';
import { FAILOVER_REGION, mintMany, REGION, type World } from './world.js';

/**
 * Each timed batch starts on a collected heap. The load generator's heap (the fault proxy's record, the SDK and the
 * Kubernetes client of the floor and the world) is ~100 MB, and a scavenge of its young generation took 4–9 ms: one
 * in every other storm, landing in every pod's latency, where the driver's Go client has no such pause.
 */
function collectLoadGeneratorGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('the bench needs --expose-gc: run it as npm run bench');
  gc();
}

export interface Target {
  /** `ours` or `other`: also the namespace suffix of its identities. */
  name: string;
  client: MountClient;
  /** http://host:port of /metrics, when the provider serves our metric names. */
  metricsUrl?: string;
  /** For /proc sampling (S3). */
  pid?: number;
}

export interface BenchOptions {
  delayMs: number;
  iterations: number;
  stormPods: number;
  /** Storms of S2, each a new Deployment. */
  stormRounds: number;
  s3Accounts: number;
  s3PodsPerAccount: number;
  s3Rounds: number;
  /** At most this long after S3's storms for the RSS to come back down. */
  s3IdleSeconds: number;
}

type KubeReads = Record<'serviceaccounts' | 'pods' | 'nodes', number>;

export interface Latencies {
  p50: number;
  p99: number;
  samples: number;
}

function latencies(values: readonly number[]): Latencies {
  return { p50: round(median(values)), p99: round(percentile(values, 99)), samples: values.length };
}

function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** The worst (highest) figure of several mounts' call counts, field by field; byAction from the worst mount. */
function worst(counts: readonly CallCounts[]): CallCounts {
  const byTotal = [...counts].sort((a, b) => b.total - a.total)[0]!;
  return {
    total: Math.max(...counts.map((c) => c.total)),
    fetch: Math.max(...counts.map((c) => c.fetch)),
    sts: Math.max(...counts.map((c) => c.sts)),
    byAction: byTotal.byAction,
    byRegion: byTotal.byRegion,
  };
}

const BENCH_OBJECT_COUNT = benchObjects().length;
const BENCH_OBJECTS_YAML = stringify(benchObjects());

interface PodRequest {
  pod: string;
  /** The encoded MountRequest (see MountClient). */
  frame: Buffer;
}

interface Pod {
  namespace: string;
  name: string;
  serviceAccount: string;
  tokens: string;
}

class Runner {
  readonly errors: string[] = [];
  constructor(
    readonly world: World,
    readonly target: Target,
    readonly options: BenchOptions,
    readonly namespace: string,
  ) {}

  /**
   * The Mount the driver would send for `pod`, encoded. Built before the clock starts: the driver reads the
   * SecretProviderClass from its informer cache and only marshals it, while building the request here (YAML of 40
   * objects, JSON, protobuf) costs ~0.4 ms, which a storm of 100 built in a row would add to every pod's latency.
   */
  request(pod: Pod, parameters: Record<string, string> = { region: REGION }): PodRequest {
    const request = mountRequest({
      pod: { namespace: pod.namespace, name: pod.name, serviceAccountName: pod.serviceAccount },
      parameters,
      objects: BENCH_OBJECTS_YAML,
      tokens: pod.tokens,
    });
    return { pod: pod.name, frame: this.target.client.encode(request) };
  }

  /** One Mount, timed from the call to its answer. */
  async mount(request: PodRequest): Promise<number> {
    return (await this.storm([request]))[0]!;
  }

  /**
   * Every pod's Mount at once, as when a Deployment's pods are scheduled together. Answers are decoded and checked
   * once all are in: decoding one while others are still arriving would put it in their latency.
   */
  async storm(requests: readonly PodRequest[]): Promise<number[]> {
    collectLoadGeneratorGarbage();
    const timed = await Promise.all(requests.map((request) => this.timed(request)));
    for (const { pod, response } of timed) {
      const files = response?.().files;
      if (files && files.length !== BENCH_OBJECT_COUNT) {
        this.errors.push(`${pod}: ${files.length} files instead of ${BENCH_OBJECT_COUNT}`);
      }
    }
    return timed.map((t) => t.elapsedMs);
  }

  private async timed({ pod, frame }: PodRequest): Promise<{ pod: string; elapsedMs: number; response?: () => MountResponseMessage }> {
    const started = performance.now();
    try {
      return { pod, ...(await this.target.client.mount(frame, 110_000)) };
    } catch (err) {
      this.errors.push(`${pod}: ${(err as Error).message}`);
      return { pod, elapsedMs: performance.now() - started };
    }
  }

  /** Runs `work` with the proxy's record cleared, and returns the AWS calls it made with their waves. */
  async recorded<T>(work: () => Promise<T>): Promise<{ result: T; calls: CallCounts; waves: number }> {
    this.world.proxy.clearRecords();
    const result = await work();
    // An answer the provider already has may still be on its way into the record: let the proxy settle.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const records = [...this.world.proxy.records];
    return { result, calls: countCalls(records), waves: callWaves(records, this.options.delayMs) };
  }

  async kubeSnapshot(): Promise<{ metrics?: KubeReads; audit?: KubeReads }> {
    const metrics = this.target.metricsUrl ? kubernetesCalls(await fetchMetrics(this.target.metricsUrl)) : undefined;
    const audit = await this.world.auditReads(new Set([this.namespace]));
    return { metrics, audit };
  }

  async freshPod(name: string, serviceAccount = `${name}-sa`): Promise<Pod> {
    await this.world.serviceAccount(this.namespace, serviceAccount);
    return { namespace: this.namespace, name, serviceAccount, tokens: await this.world.tokens(this.namespace, serviceAccount) };
  }
}

function diff(after: KubeReads | undefined, before: KubeReads | undefined): KubeReads | undefined {
  if (!after || !before) return undefined;
  return {
    serviceaccounts: after.serviceaccounts - before.serviceaccounts,
    pods: after.pods - before.pods,
    nodes: after.nodes - before.nodes,
  };
}

export interface MountShape {
  first: { latencyMs: Latencies; calls: CallCounts; waves: number; latencyOverDelay: number };
  repeat: { latencyMs: Latencies; calls: CallCounts; waves: number; latencyOverDelay: number };
  /** Calls to the failover region, first and repeat mounts together (S4). */
  failoverRegionCalls: number;
  errors: string[];
}

/** S1 (and S4 with failoverRegion): per iteration a fresh ServiceAccount, its first mount, then two repeats. */
async function mountShape(runner: Runner, prefix: string, parameters: Record<string, string>): Promise<MountShape> {
  const first: number[] = [];
  const repeat: number[] = [];
  const firstCalls: CallCounts[] = [];
  const repeatCalls: CallCounts[] = [];
  const firstWaves: number[] = [];
  const repeatWaves: number[] = [];
  let failoverRegionCalls = 0;
  for (let i = 0; i < runner.options.iterations; i++) {
    const pod = await runner.freshPod(`${prefix}-${i}`);
    const one = await runner.recorded(() => runner.mount(runner.request(pod, parameters)));
    first.push(one.result);
    firstCalls.push(one.calls);
    firstWaves.push(one.waves);
    failoverRegionCalls += one.calls.byRegion[FAILOVER_REGION] ?? 0;
    for (let r = 0; r < 2; r++) {
      const again = await runner.recorded(() => runner.mount(runner.request(pod, parameters)));
      repeat.push(again.result);
      repeatCalls.push(again.calls);
      repeatWaves.push(again.waves);
      failoverRegionCalls += again.calls.byRegion[FAILOVER_REGION] ?? 0;
    }
  }
  const delay = runner.options.delayMs;
  return {
    first: {
      latencyMs: latencies(first),
      calls: worst(firstCalls),
      waves: Math.max(...firstWaves),
      latencyOverDelay: delay > 0 ? round(median(first) / delay) : NaN,
    },
    repeat: {
      latencyMs: latencies(repeat),
      calls: worst(repeatCalls),
      waves: Math.max(...repeatWaves),
      latencyOverDelay: delay > 0 ? round(median(repeat) / delay) : NaN,
    },
    failoverRegionCalls,
    errors: runner.errors,
  };
}

export interface StormResult {
  pods: number;
  storms: number;
  latencyMs: Latencies;
  wallMs: number;
  /** Each storm's slowest pod, in order: whether the p99 is every storm's tail or one slow storm's. */
  slowestPodMsByStorm: number[];
  calls: CallCounts;
  waves: number;
  /** The provider's own count (its metrics), when it serves ours. */
  kubeCallsByMetrics?: KubeReads;
  /** The apiserver's count (its audit log), when it writes one. */
  kubeCallsByAudit?: KubeReads;
  errors: string[];
}

/**
 * S2: every pod of one Deployment (one ServiceAccount, a token each) mounts at once; `stormRounds` times, each a
 * new Deployment, so the first storm (cold code paths) and later ones are all in the latencies. Calls are those
 * of the worst storm.
 */
async function storm(runner: Runner): Promise<StormResult> {
  const { stormPods, stormRounds } = runner.options;
  const latencyValues: number[] = [];
  const walls: number[] = [];
  const slowest: number[] = [];
  const perStorm: { calls: CallCounts; waves: number; metrics?: KubeReads; audit?: KubeReads }[] = [];
  for (let round = 0; round < stormRounds; round++) {
    const serviceAccount = `s2-deployment-${round}`;
    await runner.world.serviceAccount(runner.namespace, serviceAccount);
    const tokens = await mintMany(runner.world, runner.namespace, Array(stormPods).fill(serviceAccount));
    const pods = tokens.map(
      (t, i): Pod => ({ namespace: runner.namespace, name: `s2-${round}-pod-${i}`, serviceAccount, tokens: t }),
    );
    const requests = pods.map((pod) => runner.request(pod));
    const before = await runner.kubeSnapshot();
    const started = performance.now();
    const run = await runner.recorded(() => runner.storm(requests));
    walls.push(performance.now() - started);
    const after = await runner.kubeSnapshot();
    latencyValues.push(...run.result);
    slowest.push(Math.max(...run.result));
    perStorm.push({
      calls: run.calls,
      waves: run.waves,
      metrics: diff(after.metrics, before.metrics),
      audit: diff(after.audit, before.audit),
    });
  }
  const worstKube = (pick: (s: (typeof perStorm)[number]) => KubeReads | undefined) => {
    let worstReads: KubeReads | undefined;
    for (const reads of perStorm.map(pick)) {
      if (reads && (!worstReads || reads.serviceaccounts > worstReads.serviceaccounts)) worstReads = reads;
    }
    return worstReads;
  };
  return {
    pods: stormPods,
    storms: stormRounds,
    latencyMs: latencies(latencyValues),
    wallMs: round(Math.max(...walls)),
    slowestPodMsByStorm: slowest.map(round1),
    calls: worst(perStorm.map((s) => s.calls)),
    waves: Math.max(...perStorm.map((s) => s.waves)),
    kubeCallsByMetrics: worstKube((s) => s.metrics),
    kubeCallsByAudit: worstKube((s) => s.audit),
    errors: runner.errors,
  };
}

export interface FootprintResult {
  mountsPerRound: number;
  rounds: number;
  /** Highest RSS sampled every 10 ms during the storms, MB. */
  peakRssMb: number;
  /** VmHWM at the end: the peak since the process started, MB. */
  hwmMb: number;
  /** RSS before the first storm and after each round, MB. */
  rssBeforeMb: number;
  rssAfterRoundMb: number[];
  /** RSS after `idleSeconds` without mounts: V8 gives memory back lazily, so this tells growth from a leak. */
  rssAfterIdleMb: number;
  idleSeconds: number;
  cpuMsPerMount: number;
  latencyMs: Latencies;
  errors: string[];
}

/** S3: rounds of 200 mounts at once from 20 fresh ServiceAccounts each; memory and CPU of the provider process. */
async function footprint(runner: Runner, pid: number): Promise<FootprintResult> {
  const { s3Accounts, s3PodsPerAccount, s3Rounds } = runner.options;
  const rssBefore = procMemory(pid).rssMb;
  const cpuBefore = procCpuMs(pid);
  const rssAfterRound: number[] = [];
  const all: number[] = [];
  let peak = 0;
  for (let round = 0; round < s3Rounds; round++) {
    const accounts = Array.from({ length: s3Accounts }, (_, j) => `s3-r${round}-sa${j}`);
    await Promise.all(accounts.map((sa) => runner.world.serviceAccount(runner.namespace, sa)));
    // One token per ServiceAccount, shared by its pods: a token of each pod would add one signature check and one
    // small remembered hash per pod (src/auth/tokenVerifier.ts), and mint 10 times as many tokens here.
    const tokens = await mintMany(runner.world, runner.namespace, accounts);
    const pods = accounts.flatMap((sa, j) =>
      Array.from({ length: s3PodsPerAccount }, (_, k): Pod => ({
        namespace: runner.namespace,
        name: `${sa}-pod-${k}`,
        serviceAccount: sa,
        tokens: tokens[j]!,
      })),
    );
    const requests = pods.map((pod) => runner.request(pod));
    const sampler = sampleMemory(pid);
    all.push(...(await runner.storm(requests)));
    peak = Math.max(peak, sampler.stop().peakRssMb);
    rssAfterRound.push(round1(procMemory(pid).rssMb));
  }
  const mounts = s3Accounts * s3PodsPerAccount * s3Rounds;
  const cpuMsPerMount = round((procCpuMs(pid) - cpuBefore) / mounts, 2);
  const hwmMb = round1(procMemory(pid).hwmMb);
  // V8's memory reducer returns unused heap pages after some seconds of quiet: wait for it, bounded.
  const idleSeconds = runner.options.s3IdleSeconds;
  let rssAfterIdle = procMemory(pid).rssMb;
  for (let waited = 0; waited < idleSeconds && rssAfterIdle > rssBefore + 15; waited++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    rssAfterIdle = procMemory(pid).rssMb;
  }
  return {
    mountsPerRound: s3Accounts * s3PodsPerAccount,
    rounds: s3Rounds,
    peakRssMb: round1(peak),
    hwmMb,
    rssBeforeMb: round1(rssBefore),
    rssAfterRoundMb: rssAfterRound,
    rssAfterIdleMb: round1(rssAfterIdle),
    idleSeconds,
    cpuMsPerMount,
    latencyMs: latencies(all),
    errors: runner.errors,
  };
}

function round1(value: number): number {
  return round(value, 1);
}

export interface TargetResults {
  s1?: MountShape;
  s2?: StormResult;
  s3?: FootprintResult;
  s4?: MountShape;
}

export async function runScenarios(
  world: World,
  target: Target,
  options: BenchOptions,
  only: ReadonlySet<string>,
  log: (line: string) => void,
): Promise<TargetResults> {
  const results: TargetResults = {};
  const runner = (scenario: string) => new Runner(world, target, options, `bench-${target.name}-${scenario}`);
  const prepare = async (scenario: string) => {
    const r = runner(scenario);
    await world.ensureNamespace(r.namespace);
    log(`[${target.name}] ${scenario.toUpperCase()} …`);
    return r;
  };
  world.setDelay(options.delayMs);
  if (only.has('s1')) results.s1 = await mountShape(await prepare('s1'), 's1', { region: REGION });
  if (only.has('s2')) results.s2 = await storm(await prepare('s2'));
  if (only.has('s4')) {
    results.s4 = await mountShape(await prepare('s4'), 's4', { region: REGION, failoverRegion: FAILOVER_REGION });
  }
  if (only.has('s3')) {
    if (target.pid === undefined) log(`[${target.name}] S3 skipped: no process id (give --provider-pid)`);
    else results.s3 = await footprint(await prepare('s3'), target.pid);
  }
  return results;
}
