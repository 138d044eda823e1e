/**
 * S6: one provider stands for one node of a large cluster, inside AWS's account-wide quotas. The fault proxy enforces
 * each action's quota as a token bucket, scaled to this node's share and to compressed time: with N nodes sharing a
 * quota of Q calls/s and time running C times faster, the node gets Q / N × C calls per real second (a poll interval
 * of 120 s runs in 120 / C s). Workload: 30 pods of 3 Deployments (a service account each), every pod mounting two
 * SecretProviderClasses of 20 secrets + 20 parameters (so 6 distinct identity × SecretProviderClass pairs), re-published
 * once per poll interval at phases spread over it; 30 more pods start at once mid-run (a first mount that fails is
 * tried again after kubelet's backoff, in simulated time); one secret is rotated mid-run.
 * Which Mount is a first mount and which a re-publish is the bench's to know (a new volume path or a known one), so
 * any provider can run it.
 */
import { PutSecretValueCommand, SecretsManagerClient, CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import pLimit from 'p-limit';
import { stringify } from 'yaml';
import { mountRequest } from '../fixtures/mountRequest.js';
import { benchObjects, type BenchObject } from './spc.js';
import type { MountClient } from './mountClient.js';
import { mintMany, REGION, type World } from './world.js';

export interface S6Options {
  /** Nodes sharing the account's quotas. */
  nodes: number;
  /** How many times faster than real time the run goes. */
  compression: number;
  /** The driver's --rotation-poll-interval being simulated (s). */
  pollSeconds: number;
  /** Poll intervals the run lasts. */
  polls: number;
  /** The account's Parameter Store quota (calls/s): 40 by default, thousands with "higher throughput". */
  ssmQuota: number;
}

/** AWS's default quotas per account and region (calls/s): the Secrets Manager user guide, Parameter Store's docs. */
export const DEFAULT_QUOTAS: Readonly<Record<string, { service: string; perSecond: number }>> = {
  BatchGetSecretValue: { service: 'secretsmanager', perSecond: 100 },
  GetSecretValue: { service: 'secretsmanager', perSecond: 10_000 },
  GetParameters: { service: 'ssm', perSecond: 40 },
};

const DEPLOYMENTS = 3;
const PODS_PER_DEPLOYMENT = 10;
const ROTATED = 's6/secret-01';

export interface S6Result {
  options: S6Options;
  /** Calls per real second each action's bucket allowed. */
  quotaPerSecond: Record<string, number>;
  /** Mount calls by kind and result: a first mount that failed is tried again, as kubelet does, each try counted. */
  mounts: Record<'first' | 'republish', { ok: number; error: number }>;
  /** The burst's volumes that had no files when the run ended. */
  volumesNeverMounted: number;
  /** Simulated seconds from a burst volume's first try to its files, median and maximum, over those mounted. */
  firstMountSeconds: { median: number; max: number } | undefined;
  /** Error codes of failed Mounts by kind, e.g. `first Unavailable` → count. */
  errors: Record<string, number>;
  /** Requests answered ThrottlingException by the quota, by action. */
  throttles: Record<string, number>;
  /** AWS requests (throttled included) per action per simulated second, over the whole run. */
  callsPerSimulatedSecond: Record<string, number>;
  /** Fetch requests (SM + SSM) per poll interval after the burst, throttled included: what one node costs the account. */
  fetchCallsPerPollAfterBurst: number;
  /** Distinct identity × SecretProviderClass pairs on the node, and the calls one fetch of a pair makes. */
  pairs: number;
  callsPerFetch: number;
  /** Simulated seconds from the rotation of the value until every running pod's volume was answered with it. */
  rotationToEveryPodSeconds: number | undefined;
  /** Volumes that never saw the rotated value before the run ended. */
  volumesWithoutRotation: number;
}

interface Volume {
  pod: string;
  serviceAccount: string;
  tokens: string;
  spc: 0 | 1;
  targetPath: string;
  /** Phase of its re-publishes in the poll interval (ms). */
  phaseMs: number;
  /** Real ms (from the start) when its answer first carried the rotated value. */
  rotatedAt?: number;
  /** Real ms (from the start) of its first mount's first try, and of the try that got its files. */
  firstTriedAt?: number;
  mountedAt?: number;
}

/**
 * kubelet's backoff before it tries a failed NodePublishVolume again (its exponential backoff for volume operations:
 * 500 ms, doubling, at most 2 min 2 s), in simulated ms.
 */
function kubeletBackoffMs(failures: number): number {
  return Math.min(500 * 2 ** (failures - 1), 122_000);
}

function s6Objects(): BenchObject[] {
  return benchObjects().map((o) => ({ ...o, objectName: o.objectName.replace('bench', 's6') }));
}

const SPC_YAML = [stringify(benchObjects()), stringify(s6Objects())] as const;

/** The second SecretProviderClass's objects, in moto directly (not through the proxy's quotas). */
async function seed(world: World): Promise<SecretsManagerClient> {
  const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };
  const sm = new SecretsManagerClient({ region: REGION, endpoint: world.motoUrl, credentials });
  const ssm = new SSMClient({ region: REGION, endpoint: world.motoUrl, credentials });
  const limit = pLimit(8);
  await Promise.all(
    s6Objects().map((o, i) =>
      limit(async () => {
        const value = `s6 value ${i}`;
        if (o.objectType === 'secretsmanager') {
          await sm.send(new CreateSecretCommand({ Name: o.objectName, SecretString: value })).catch((err: Error) => {
            if (err.name !== 'ResourceExistsException') throw err;
            return sm.send(new PutSecretValueCommand({ SecretId: o.objectName, SecretString: value }));
          });
        } else {
          await ssm.send(new PutParameterCommand({ Name: o.objectName, Value: value, Type: 'SecureString', Overwrite: true }));
        }
      }),
    ),
  );
  return sm;
}

export async function runS6(world: World, target: { name: string; client: MountClient }, options: S6Options, log: (line: string) => void): Promise<S6Result> {
  const namespace = `bench-${target.name}-s6`;
  await world.ensureNamespace(namespace);
  const sm = await seed(world);
  const pollMs = (options.pollSeconds * 1000) / options.compression;
  const quotas: Record<string, { service: string; perSecond: number }> = { ...DEFAULT_QUOTAS, GetParameters: { service: 'ssm', perSecond: options.ssmQuota } };
  const quotaPerSecond = Object.fromEntries(
    Object.entries(quotas).map(([action, q]) => [action, (q.perSecond / options.nodes) * options.compression]),
  );
  const serviceAccounts = Array.from({ length: DEPLOYMENTS }, (_, d) => `deploy-${d}`);
  await Promise.all(serviceAccounts.map((sa) => world.serviceAccount(namespace, sa)));

  let podCount = 0;
  const newPods = async (count: number): Promise<Volume[]> => {
    const accounts = Array.from({ length: count }, (_, i) => serviceAccounts[i % DEPLOYMENTS]!);
    const tokens = await mintMany(world, namespace, accounts);
    return accounts.flatMap((serviceAccount, i) => {
      const pod = `${serviceAccount}-${podCount++}`;
      return ([0, 1] as const).map((spc) => ({
        pod,
        serviceAccount,
        tokens: tokens[i]!,
        spc,
        targetPath: `/var/lib/kubelet/pods/${namespace}-${pod}/volumes/kubernetes.io~csi/spc-${spc}/mount`,
        phaseMs: Math.random() * pollMs,
      }));
    });
  };
  const running = await newPods(DEPLOYMENTS * PODS_PER_DEPLOYMENT);
  const burst = await newPods(DEPLOYMENTS * PODS_PER_DEPLOYMENT);

  const result: S6Result = {
    options,
    quotaPerSecond,
    mounts: { first: { ok: 0, error: 0 }, republish: { ok: 0, error: 0 } },
    volumesNeverMounted: 0,
    firstMountSeconds: undefined,
    errors: {},
    throttles: {},
    callsPerSimulatedSecond: {},
    fetchCallsPerPollAfterBurst: 0,
    pairs: DEPLOYMENTS * 2,
    callsPerFetch: 3,
    rotationToEveryPodSeconds: undefined,
    volumesWithoutRotation: 0,
  };
  const rotatedFile = ROTATED.replace('/', '_');
  let rotatedValue: string | undefined;
  let rotatedAtMs: number | undefined;
  let start = performance.now();
  let startEpoch = Date.now();
  const now = () => performance.now() - start;

  const mountVolume = async (volume: Volume, kind: 'first' | 'republish'): Promise<boolean> => {
    const request = mountRequest({
      pod: { namespace, name: volume.pod, serviceAccountName: volume.serviceAccount },
      parameters: { region: REGION },
      objects: SPC_YAML[volume.spc],
      tokens: volume.tokens,
      targetPath: volume.targetPath,
    });
    if (kind === 'first') volume.firstTriedAt ??= now();
    try {
      const { response } = await target.client.mount(target.client.encode(request), 60_000);
      result.mounts[kind].ok++;
      if (kind === 'first') volume.mountedAt = now();
      if (volume.spc === 1 && rotatedValue !== undefined && volume.rotatedAt === undefined) {
        const file = response().files.find((f) => f.path === rotatedFile);
        if (file !== undefined && Buffer.from(file.contents).toString() === rotatedValue) volume.rotatedAt = now();
      }
      return true;
    } catch (err) {
      result.mounts[kind].error++;
      // The gRPC status name our client puts first, or what it says instead ("no grpc-status": the call ended without one).
      const code = /^[^:]{1,30}/.exec((err as Error).message)?.[0] ?? 'error';
      const key = `${kind} ${code}`;
      result.errors[key] = (result.errors[key] ?? 0) + 1;
      return false;
    }
  };

  // Every running volume re-publishes at its phase of each interval. The burst's pods mount at once; a first mount
  // that failed is tried again after kubelet's backoff, and a volume with files re-publishes from its next phase on.
  const endMs = options.polls * pollMs;
  const burstAtMs = 2.5 * pollMs;
  const rotateAtMs = 3.5 * pollMs;
  const pending: Promise<unknown>[] = [];
  const timers: NodeJS.Timeout[] = [];
  const at = (atMs: number, run: () => void) => {
    if (atMs < endMs) timers.push(setTimeout(run, Math.max(0, atMs - now())));
  };
  const republishFrom = (volume: Volume, atMs: number) =>
    at(atMs, () => {
      pending.push(mountVolume(volume, 'republish'));
      republishFrom(volume, atMs + pollMs);
    });
  const firstMount = (volume: Volume, atMs: number, failures = 0) =>
    at(atMs, () => {
      pending.push(
        mountVolume(volume, 'first').then((ok) => {
          if (!ok) firstMount(volume, now() + kubeletBackoffMs(failures + 1) / options.compression, failures + 1);
          else republishFrom(volume, volume.phaseMs + Math.ceil((now() - volume.phaseMs) / pollMs) * pollMs);
        }),
      );
    });
  world.setDelay(0);
  // The node's pods were running before the run: their first mounts are made before the quotas and not counted.
  await Promise.all(running.map((volume) => mountVolume(volume, 'first')));
  result.mounts.first = { ok: 0, error: 0 };
  result.errors = {};
  world.proxy.clearRecords();
  for (const [action, perSecond] of Object.entries(quotaPerSecond)) {
    world.proxy.setQuota({ service: quotas[action]!.service, action, perSecond, burst: Math.max(1, perSecond) });
  }
  start = performance.now();
  startEpoch = Date.now();
  log(`[${target.name}] S6: ${options.nodes} nodes, time ×${options.compression}, poll ${options.pollSeconds} s as ${pollMs} ms, ${options.polls} polls, Parameter Store quota ${options.ssmQuota}/s`);
  for (const volume of running) republishFrom(volume, volume.phaseMs);
  for (const volume of burst) firstMount(volume, burstAtMs + (volume.phaseMs % 1));
  timers.push(
    setTimeout(() => {
      rotatedValue = `rotated at ${new Date().toISOString()}`;
      rotatedAtMs = now();
      void sm.send(new PutSecretValueCommand({ SecretId: ROTATED, SecretString: rotatedValue }));
    }, rotateAtMs),
  );
  await new Promise((resolve) => setTimeout(resolve, endMs + 50));
  for (const timer of timers) clearTimeout(timer);
  // A Mount still running may settle into another try or re-publish: past the end, those are not scheduled.
  while (pending.length > 0) await Promise.all(pending.splice(0));
  world.proxy.clearQuotas();

  const records = [...world.proxy.records];
  const elapsedSimulated = (endMs / 1000) * options.compression;
  for (const record of records) {
    const action = `${record.service}:${record.action}`;
    result.callsPerSimulatedSecond[action] = (result.callsPerSimulatedSecond[action] ?? 0) + 1 / elapsedSimulated;
    if (record.fault === 'quota') result.throttles[action] = (result.throttles[action] ?? 0) + 1;
  }
  for (const action of Object.keys(result.callsPerSimulatedSecond)) {
    result.callsPerSimulatedSecond[action] = Math.round(result.callsPerSimulatedSecond[action]! * 1000) / 1000;
  }
  // From one poll interval after the burst: its pods' first mounts are behind, only re-publishes are left.
  const steadyFrom = startEpoch + burstAtMs + pollMs;
  const steady = records.filter((r) => r.at >= steadyFrom && (r.service === 'secretsmanager' || r.service === 'ssm'));
  const steadyPolls = (endMs - (burstAtMs + pollMs)) / pollMs;
  result.fetchCallsPerPollAfterBurst = Math.round((steady.length / steadyPolls) * 10) / 10;
  const mounted = burst.filter((v) => v.mountedAt !== undefined);
  result.volumesNeverMounted = burst.length - mounted.length;
  const waits = mounted.map((v) => ((v.mountedAt! - v.firstTriedAt!) / 1000) * options.compression).sort((a, b) => a - b);
  if (waits.length > 0) {
    const round = (seconds: number) => Math.round(seconds * 10) / 10;
    result.firstMountSeconds = { median: round(waits[Math.floor(waits.length / 2)]!), max: round(waits.at(-1)!) };
  }
  const rotatedVolumes = [...running, ...mounted].filter((v) => v.spc === 1);
  const seen = rotatedVolumes.filter((v) => v.rotatedAt !== undefined);
  result.volumesWithoutRotation = rotatedVolumes.length - seen.length;
  if (rotatedAtMs !== undefined && seen.length === rotatedVolumes.length) {
    const last = Math.max(...seen.map((v) => v.rotatedAt!));
    result.rotationToEveryPodSeconds = Math.round(((last - rotatedAtMs) / 1000) * options.compression);
  }
  log(`[${target.name}] S6: ${JSON.stringify(result.mounts)}, throttles ${JSON.stringify(result.throttles)}`);
  return result;
}
