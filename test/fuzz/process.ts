/**
 * The hostile shapes against the provider process, as production runs it (the built bundle on the image's Node.js,
 * its node options): moto, etcd and kube-apiserver on loopback, one ServiceAccount, one secret. Every hostile Mount
 * must come back as InvalidSecretProviderClass (or, for an input within every budget, the AWS answer for the object it
 * names); after every few, the process must be alive, answer Version and a normal Mount within a second, and stay
 * within the chart's memory limit.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { mountRequest } from '../fixtures/mountRequest.js';
import { irsaServiceAccountTokens } from '../harness/irsaServiceAccount.js';
import { chartMemoryLimit, rssBytes } from '../harness/memory.js';
import { startProvider, type RunningProvider } from '../harness/provider.js';
import { startEtcd } from '../harness/start/etcd.js';
import { locatePeers } from '../harness/start/installEnv.js';
import { startKubeApiserver } from '../harness/start/kubeApiserver.js';
import { startMoto } from '../harness/start/moto.js';
import { stopAllPeers } from '../harness/start/process.js';
import { hostileObjectsArb, JSON_SECRET, type HostileObjects } from './hostileInputs.js';

const REGION = 'us-east-1';
const NAMESPACE = 'fuzz';
const PROMPT_MS = 1_000;
/** Mounts between two checks that the provider still serves. */
const CHECK_EVERY = 10;
/** What an input may come to: our refusal, or, within every budget, the lookup of an object that does not exist. */
const ACCEPTED_CODES = new Set(['InvalidSecretProviderClass', 'ObjectNotFound']);
/** A doubling jmesPath reads a secret that exists: within its budgets (few stages), it is served. */
const ACCEPTED_JMESPATH_CODES = new Set(['InvalidSecretProviderClass', 'OK']);

export interface ProcessFuzzResult {
  runs: number;
  byShape: Map<string, Map<string, number>>;
  failures: string[];
  peakRssMiB: number;
}

/** Why the provider is not serving as it must, or undefined. */
async function servingProblem(provider: RunningProvider, tokens: string, limit: number): Promise<string | undefined> {
  if (provider.process.exitCode !== null || provider.process.signalCode !== null) {
    return `the provider exited (${provider.process.exitCode ?? provider.process.signalCode}):\n${provider.output().slice(-3000)}`;
  }
  let started = performance.now();
  await provider.client.version();
  const versionMs = performance.now() - started;
  started = performance.now();
  const response = await provider.client.mount(
    mountRequest({
      pod: { namespace: NAMESPACE, name: 'normal', serviceAccountName: 'app' },
      parameters: { region: REGION },
      objects: [{ objectName: 'fuzz/normal', objectType: 'secretsmanager' }],
      tokens,
    }),
    30_000,
  );
  const mountMs = performance.now() - started;
  if (response.files[0]?.contents.toString() !== 'normal-value') return 'a normal Mount did not serve its file';
  if (versionMs > PROMPT_MS) return `Version took ${Math.round(versionMs)} ms`;
  if (mountMs > PROMPT_MS) return `a normal Mount took ${Math.round(mountMs)} ms`;
  const rss = rssBytes(provider.process.pid!);
  if (rss > limit) return `RSS ${Math.round(rss / 2 ** 20)} MiB is over the chart's limit of ${limit / 2 ** 20} MiB`;
  return undefined;
}

export async function fuzzProcess(runs: number, seed: number): Promise<ProcessFuzzResult> {
  const runDir = mkdtempSync(join(tmpdir(), 'provider-fuzz-'));
  const logDir = join(runDir, 'logs');
  mkdirSync(logDir);
  let provider: RunningProvider | undefined;
  const result: ProcessFuzzResult = { runs: 0, byShape: new Map(), failures: [], peakRssMiB: 0 };
  // This process runs the machine's Node.js (the provider runs the image's): the SDK's reminder is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  try {
    const binaries = await locatePeers();
    const moto = await startMoto(binaries.motoServer, logDir);
    const etcd = await startEtcd(binaries.etcd, runDir, logDir);
    const kube = await startKubeApiserver(binaries.kubeApiserver, etcd.url, runDir, logDir);
    const sm = new SecretsManagerClient({ region: REGION, endpoint: moto.url, credentials: { accessKeyId: 'fuzz', secretAccessKey: 'fuzz' } });
    await sm.send(new CreateSecretCommand({ Name: 'fuzz/normal', SecretString: 'normal-value' }));
    await sm.send(new CreateSecretCommand({ Name: JSON_SECRET, SecretString: JSON.stringify({ user: 'u', port: 5432 }) }));
    const tokens = await irsaServiceAccountTokens(kube.kubeconfigPath, {
      namespace: NAMESPACE,
      name: 'app',
      roleArn: 'arn:aws:iam::123456789012:role/fuzz',
    });
    provider = await startProvider({
      kubeconfigPath: kube.kubeconfigPath,
      entry: new URL('../../dist/src/main.js', import.meta.url).pathname,
      node: binaries.imageNode,
      env: { AWS_ENDPOINT_URL: moto.url },
    });
    const limit = chartMemoryLimit();
    const first = await servingProblem(provider, tokens, limit);
    if (first) throw new Error(`before any hostile input: ${first}`);

    const inputs: HostileObjects[] = fc.sample(hostileObjectsArb, { numRuns: runs, seed });
    for (const [i, { shape, objects }] of inputs.entries()) {
      const request = mountRequest({
        pod: { namespace: NAMESPACE, name: `hostile-${i}`, serviceAccountName: 'app' },
        parameters: { region: REGION },
        objects,
        tokens,
      });
      const code = await provider.client.mount(request, 60_000).then(
        () => 'OK',
        (error: grpc.ServiceError) => error.metadata.get('x-provider-error-code')[0]?.toString() ?? `gRPC ${error.code}: ${error.details}`,
      );
      const tally = result.byShape.get(shape) ?? new Map<string, number>();
      tally.set(code, (tally.get(code) ?? 0) + 1);
      result.byShape.set(shape, tally);
      result.runs++;
      const accepted = shape === 'pipe-doubling jmesPath' ? ACCEPTED_JMESPATH_CODES : ACCEPTED_CODES;
      if (!accepted.has(code)) result.failures.push(`#${i} ${shape} (${objects.length} characters): ${code}`);
      if (i % CHECK_EVERY === CHECK_EVERY - 1 || i === inputs.length - 1) {
        result.peakRssMiB = Math.max(result.peakRssMiB, rssBytes(provider.process.pid!) / 2 ** 20);
        const problem = await servingProblem(provider, tokens, limit).catch((err: Error) => err.message);
        if (problem) {
          result.failures.push(`after #${i} ${shape}: ${problem}`);
          break;
        }
      }
    }
    return result;
  } finally {
    await provider?.stop();
    await stopAllPeers();
    rmSync(runDir, { recursive: true, force: true });
  }
}
