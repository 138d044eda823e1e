/**
 * `npm run soak`: the provider under load, on this machine. Starts moto, etcd and kube-apiserver on 127.0.0.1, the
 * fault proxy in front of moto and the provider process, then drives MOUNTS Mounts at CONCURRENCY over the
 * provider's socket, as the driver would: a mix of SecretProviderClasses (several secrets and parameters, JMESPath,
 * pinned versions, failover from a region the proxy keeps failing, and a missing secret whose NOT_FOUND is
 * expected). Prints mounts/s, p50/p99 latency and the provider's RSS after WARMUP and after MOUNTS Mounts.
 * Exits non-zero on any unexpected outcome, on RSS growth of 10 % or more, or when it runs out of time.
 *
 *   npm run soak                 10,000 Mounts, 50 at a time
 *   npm run soak -- 2000 20      fewer, for a quick look
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type * as grpc from '@grpc/grpc-js';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { mountRequest, type MountRequestFixture } from '../fixtures/mountRequest.js';
import { startFaultProxy } from '../harness/faultProxy.js';
import { startProvider, type RunningProvider } from '../harness/provider.js';
import { startEtcd } from '../harness/start/etcd.js';
import { locatePeers } from '../harness/start/installEnv.js';
import { startKubeApiserver } from '../harness/start/kubeApiserver.js';
import { startMoto } from '../harness/start/moto.js';
import { stopAllPeers } from '../harness/start/process.js';

const [mountsArg, concurrencyArg] = process.argv.slice(2).filter((a) => /^\d+$/.test(a));
const MOUNTS = Number(mountsArg ?? 10_000);
const CONCURRENCY = Number(concurrencyArg ?? 50);
const WARMUP = Math.min(2_000, Math.floor(MOUNTS / 5));
/** The whole run, peers included, stops by itself after this long. */
const TIME_LIMIT_MS = 20 * 60_000;
const MAX_RSS_GROWTH = 0.1;

const PRIMARY = 'us-east-1';
const UNHEALTHY = 'eu-west-1';
const FAILOVER = 'us-west-2';
const NAMESPACE = 'soak';
const SERVICE_ACCOUNTS = ['api', 'worker', 'web', 'batch', 'cron'];
const PODS_PER_ACCOUNT = 4;

interface Expected {
  /** File path → contents; undefined when the Mount must fail with `failure`. */
  files?: Record<string, string>;
  failure?: { code: number; providerCode: string };
}

interface Scenario {
  name: string;
  weight: number;
  request: Omit<MountRequestFixture, 'pod' | 'tokens'>;
  expected: Expected;
}

async function seed(motoUrl: string): Promise<Scenario[]> {
  const credentials = { accessKeyId: 'soak', secretAccessKey: 'soak' };
  const sm = (region: string) => new SecretsManagerClient({ region, endpoint: motoUrl, credentials });
  const ssm = (region: string) => new SSMClient({ region, endpoint: motoUrl, credentials });
  const secret = async (region: string, name: string, value: string) =>
    (await sm(region).send(new CreateSecretCommand({ Name: name, SecretString: value }))).VersionId!;
  const parameter = async (region: string, name: string, value: string, type: 'String' | 'SecureString' = 'String') =>
    (await ssm(region).send(new PutParameterCommand({ Name: name, Value: value, Type: type }))).Version!;

  for (const i of [1, 2, 3]) await secret(PRIMARY, `svc/secret-${i}`, `secret ${i} value`);
  await parameter(PRIMARY, '/svc/param-1', 'param 1 value');
  await parameter(PRIMARY, '/svc/param-2', 'param 2 value', 'SecureString');
  await secret(PRIMARY, 'svc/db', JSON.stringify({ username: 'soak-user', password: 'soak-password', port: 5432 }));
  const pinned = await secret(PRIMARY, 'svc/pinned', 'pinned value');
  for (const region of [UNHEALTHY, FAILOVER]) {
    await secret(region, 'svc/replicated', `replicated in ${region}`);
    await parameter(region, '/svc/replicated', `replicated param in ${region}`);
  }

  return [
    {
      name: 'five objects',
      weight: 35,
      request: {
        parameters: { region: PRIMARY },
        objects: [
          ...[1, 2, 3].map((i) => ({ objectName: `svc/secret-${i}`, objectType: 'secretsmanager' })),
          { objectName: '/svc/param-1', objectType: 'ssmparameter', objectAlias: 'param-1' },
          { objectName: '/svc/param-2', objectType: 'ssmparameter', objectAlias: 'param-2' },
        ],
      },
      expected: {
        files: {
          'svc_secret-1': 'secret 1 value',
          'svc_secret-2': 'secret 2 value',
          'svc_secret-3': 'secret 3 value',
          'param-1': 'param 1 value',
          'param-2': 'param 2 value',
        },
      },
    },
    {
      name: 'jmesPath',
      weight: 25,
      request: {
        parameters: { region: PRIMARY },
        objects: [
          {
            objectName: 'svc/db',
            objectType: 'secretsmanager',
            objectAlias: 'db.json',
            jmesPath: [
              { path: 'username', objectAlias: 'db-user' },
              { path: 'password', objectAlias: 'db-password' },
              { path: 'port', objectAlias: 'db-port' },
            ],
          },
        ],
      },
      expected: {
        files: {
          'db.json': JSON.stringify({ username: 'soak-user', password: 'soak-password', port: 5432 }),
          'db-user': 'soak-user',
          'db-password': 'soak-password',
          'db-port': '5432',
        },
      },
    },
    {
      name: 'pinned versions',
      weight: 15,
      request: {
        parameters: { region: PRIMARY },
        objects: [
          { objectName: 'svc/pinned', objectType: 'secretsmanager', objectVersion: pinned, objectAlias: 'pinned' },
          { objectName: '/svc/param-1', objectType: 'ssmparameter', objectVersion: '1', objectAlias: 'param-1-v1' },
        ],
      },
      expected: { files: { pinned: 'pinned value', 'param-1-v1': 'param 1 value' } },
    },
    {
      name: 'failover',
      weight: 15,
      request: {
        parameters: { region: UNHEALTHY, failoverRegion: FAILOVER },
        objects: [
          { objectName: 'svc/replicated', objectType: 'secretsmanager', objectAlias: 'replicated' },
          { objectName: '/svc/replicated', objectType: 'ssmparameter', objectAlias: 'replicated-param' },
        ],
      },
      expected: {
        files: { replicated: `replicated in ${FAILOVER}`, 'replicated-param': `replicated param in ${FAILOVER}` },
      },
    },
    {
      name: 'missing secret',
      weight: 10,
      request: {
        parameters: { region: PRIMARY },
        objects: [{ objectName: 'svc/does-not-exist', objectType: 'secretsmanager' }],
      },
      expected: { failure: { code: 5 /* NOT_FOUND */, providerCode: 'ObjectNotFound' } },
    },
  ];
}

async function identities(kubeconfigPath: string) {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath);
  const core = config.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
  const pods: { pod: MountRequestFixture['pod']; tokens: string }[] = [];
  for (const account of SERVICE_ACCOUNTS) {
    await core.createNamespacedServiceAccount({
      namespace: NAMESPACE,
      body: {
        metadata: { name: account, annotations: { 'eks.amazonaws.com/role-arn': `arn:aws:iam::123456789012:role/${account}` } },
      },
    });
    const minted = await core.createNamespacedServiceAccountToken({
      namespace: NAMESPACE,
      name: account,
      body: { spec: { audiences: ['sts.amazonaws.com'], expirationSeconds: 3600 } },
    });
    const tokens = JSON.stringify({
      'sts.amazonaws.com': {
        token: minted.status!.token,
        expirationTimestamp: new Date(minted.status!.expirationTimestamp!).toISOString().replace(/\.\d+Z$/, 'Z'),
      },
    });
    for (let i = 0; i < PODS_PER_ACCOUNT; i++) {
      pods.push({ pod: { namespace: NAMESPACE, name: `${account}-${i}`, serviceAccountName: account }, tokens });
    }
  }
  return pods;
}

/**
 * RSS sampled in the middle of a storm says more about where V8's young generation stood than about what the
 * provider holds: runs of the same code read anywhere from -1 % to +50 %. So each sample is taken at rest, after
 * the in-flight Mounts finished and a full collection (test/soak/gcOnSignal.mjs) ran.
 */
async function rssAtRest(provider: RunningProvider): Promise<number> {
  provider.process.kill('SIGUSR2');
  await sleep(1000);
  return rssMiB(provider.process.pid!);
}

function rssMiB(pid: number): number {
  const kib = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kib) / 1024;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Why a Mount's outcome differs from what its scenario expects, or undefined when it matches. */
function mismatch(scenario: Scenario, outcome: { files?: Record<string, string>; error?: grpc.ServiceError }): string | undefined {
  const { expected } = scenario;
  if (expected.failure) {
    if (!outcome.error) return 'succeeded, expected a failure';
    const code = outcome.error.metadata.get('x-provider-error-code')[0]?.toString();
    if (outcome.error.code !== expected.failure.code || code !== expected.failure.providerCode) {
      return `failed with ${outcome.error.code} ${code}: ${outcome.error.details}`;
    }
    return undefined;
  }
  if (outcome.error) return `failed with ${outcome.error.code}: ${outcome.error.details}`;
  const got = JSON.stringify(Object.entries(outcome.files ?? {}).sort());
  const want = JSON.stringify(Object.entries(expected.files ?? {}).sort());
  return got === want ? undefined : `files ${got}, expected ${want}`;
}

async function drive(provider: RunningProvider, scenarios: Scenario[], pods: Awaited<ReturnType<typeof identities>>) {
  const totalWeight = scenarios.reduce((sum, s) => sum + s.weight, 0);
  // A fixed interleaving (no randomness): Mount i takes the scenario at i·7919 mod the total weight.
  const scenarioOf = (i: number) => {
    let at = (i * 7919) % totalWeight;
    for (const scenario of scenarios) {
      if (at < scenario.weight) return scenario;
      at -= scenario.weight;
    }
    return scenarios[0]!;
  };
  const latencies: number[] = [];
  const unexpected: string[] = [];
  const byScenario = new Map<string, number>();
  let next = 0;
  let rssAtWarmup = 0;
  let completed = 0;
  let inFlight = 0;
  // At the warm-up mark the workers stop taking new Mounts until memory has been measured at rest.
  let pause: Promise<void> | undefined;

  const worker = async () => {
    for (;;) {
      if (pause) await pause;
      const i = next++;
      if (i >= MOUNTS) return;
      const scenario = scenarioOf(i);
      const who = pods[i % pods.length]!;
      const started = performance.now();
      inFlight++;
      const outcome = await provider.client.mount(mountRequest({ ...scenario.request, ...who }), 60_000).then(
        (response) => ({
          files: Object.fromEntries(response.files.map((f) => [f.path, f.contents.toString()])) as Record<string, string>,
        }),
        (error: grpc.ServiceError) => ({ error }),
      );
      inFlight--;
      latencies.push(performance.now() - started);
      byScenario.set(scenario.name, (byScenario.get(scenario.name) ?? 0) + 1);
      const wrong = mismatch(scenario, outcome);
      if (wrong) unexpected.push(`#${i} ${scenario.name}: ${wrong}`);
      completed++;
      if (completed === WARMUP) {
        pause = (async () => {
          while (inFlight > 0) await sleep(10);
          rssAtWarmup = await rssAtRest(provider);
          pause = undefined;
        })();
      }
      if (completed % 1000 === 0) console.log(`  … ${completed} Mounts, ${unexpected.length} unexpected`);
    }
  };

  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - started) / 1000;
  return { latencies, unexpected, byScenario, seconds, rssAtWarmup, rssAtEnd: await rssAtRest(provider) };
}

async function main(): Promise<number> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const runDir = mkdtempSync(join(tmpdir(), 'provider-soak-'));
  const logDir = join(runDir, 'logs');
  mkdirSync(logDir);
  let provider: RunningProvider | undefined;
  let proxy: Awaited<ReturnType<typeof startFaultProxy>> | undefined;
  try {
    const binaries = await locatePeers();
    console.log('soak: starting moto, etcd and kube-apiserver on 127.0.0.1 …');
    const moto = await startMoto(binaries.motoServer, logDir);
    const etcd = await startEtcd(binaries.etcd, runDir, logDir);
    const kube = await startKubeApiserver(binaries.kubeApiserver, etcd.url, runDir, logDir);
    const scenarios = await seed(moto.url);
    const pods = await identities(kube.kubeconfigPath);
    proxy = await startFaultProxy(moto.url);
    // One region stays unhealthy for the whole run: every failover Mount meets its 503s first.
    proxy.setFault({ region: UNHEALTHY, kind: 'status', status: 503 });
    // The proxy's request records would grow by the tens of thousands; the soak reads none of them.
    const recordsCap = setInterval(() => proxy?.clearRecords(), 1000);
    recordsCap.unref();
    provider = await startProvider({
      kubeconfigPath: kube.kubeconfigPath,
      // The built bundle on the image's Node.js with its node options (npm run soak builds it first), as production
      // runs it.
      entry: new URL('../../dist/src/main.js', import.meta.url).pathname,
      node: binaries.imageNode,
      // The default log level: one line per Mount, as in production.
      env: {
        AWS_ENDPOINT_URL: proxy.url,
        NODE_OPTIONS: `--expose-gc --import=${new URL('./gcOnSignal.mjs', import.meta.url).pathname}`,
      },
    });
    console.log(
      `soak: ${MOUNTS} Mounts, ${CONCURRENCY} at a time, ${pods.length} pods of ${SERVICE_ACCOUNTS.length} service ` +
        `accounts; scenarios: ${scenarios.map((s) => `${s.name} ${s.weight}%`).join(', ')}`,
    );
    const result = await drive(provider, scenarios, pods);

    const sorted = [...result.latencies].sort((a, b) => a - b);
    const growth = (result.rssAtEnd - result.rssAtWarmup) / result.rssAtWarmup;
    const metrics = await (await fetch(`${provider.metricsUrl}/metrics`)).text();
    const series = (prefix: string) =>
      metrics
        .split('\n')
        .filter((l) => l.startsWith(prefix))
        .map((l) => `    ${l}`)
        .join('\n');
    console.log(`\nsoak results (${MOUNTS} Mounts, concurrency ${CONCURRENCY}, ${process.platform}, node ${process.version})`);
    console.log(`  by scenario: ${[...result.byScenario].map(([name, n]) => `${name} ${n}`).join(', ')}`);
    console.log(`  unexpected outcomes: ${result.unexpected.length}`);
    for (const line of result.unexpected.slice(0, 10)) console.log(`    ${line}`);
    console.log(`  throughput: ${(MOUNTS / result.seconds).toFixed(0)} mounts/s (${result.seconds.toFixed(1)} s)`);
    console.log(
      `  latency: p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms, ` +
        `max ${sorted[sorted.length - 1]!.toFixed(1)} ms`,
    );
    console.log(
      `  provider RSS: ${result.rssAtWarmup.toFixed(1)} MiB after ${WARMUP} Mounts, ${result.rssAtEnd.toFixed(1)} MiB ` +
        `after ${MOUNTS} (growth ${(growth * 100).toFixed(1)} %, limit ${MAX_RSS_GROWTH * 100} %)`,
    );
    console.log(`  provider metrics:\n${series('aws_provider_mounts_total')}\n${series('aws_provider_failovers_total')}`);
    console.log(`${series('aws_provider_aws_api_calls_total')}\n${series('aws_provider_cache_requests_total')}`);
    const exitCode = await provider.stop('SIGTERM');
    provider = undefined;
    console.log(`  provider exit code after SIGTERM: ${exitCode}`);
    const failed = result.unexpected.length > 0 || growth >= MAX_RSS_GROWTH || exitCode !== 0;
    console.log(failed ? 'soak: FAILED' : 'soak: passed');
    return failed ? 1 : 0;
  } finally {
    await provider?.stop('SIGKILL');
    await proxy?.close();
    await stopAllPeers();
    rmSync(runDir, { recursive: true, force: true });
  }
}

const limit = setTimeout(() => {
  console.error(`soak: FAILED, still running after ${TIME_LIMIT_MS / 60_000} minutes`);
  void stopAllPeers().finally(() => process.exit(2));
}, TIME_LIMIT_MS);
limit.unref();

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('soak: FAILED', err);
    process.exit(1);
  },
);
