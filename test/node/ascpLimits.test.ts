import { readdirSync, readFileSync } from 'node:fs';
import { AppsV1Api } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { ASCP_DEFAULT_VALUES } from '../fixtures/ascpValues.js';
import { createSecretProviderClass } from '../harness/csi/cluster.js';
import { coreV1, kubeConfig } from '../harness/kube.js';
import { createSecret } from '../harness/moto.js';
import { eventsOf, startStorm, useNodeProvider } from '../harness/node/workloads.js';

const NAMESPACE = 'node-ascp-limits';
const REGION = 'us-west-2';
const STORM = 30;
// ASCP's default values file as a migrating user keeps it; the node's own values (image, provider directory,
// host network, AWS at the proxy, the driver already running) go over it, its resources stay ASCP's.
const NODE_KEYS: ReadonlySet<string> = new Set(['image', 'providerVolume', 'port', 'secrets-store-csi-driver']);
const provider = useNodeProvider(NAMESPACE, {
  values: () => Object.fromEntries(Object.entries(ASCP_DEFAULT_VALUES).filter(([key]) => !NODE_KEYS.has(key))),
});

beforeAll(async () => {
  await createSecret(REGION, 'AscpSecret', 'within-ascp-limits');
  await createSecretProviderClass(NAMESPACE, 'ascp', { parameters: { region: REGION, objects: '- objectName: AscpSecret\n  objectType: secretsmanager\n' } });
});

/** The provider container's cgroup v1 counters on this node: peak memory and CPU throttling. */
function providerCgroup(containerId: string): { peakBytes: number; throttledPeriods: number; throttledMs: number } {
  const pid = readdirSync('/proc').find((entry) => /^\d+$/.test(entry) && cgroupOf(entry).includes(containerId));
  if (pid === undefined) throw new Error(`no process of container ${containerId}`);
  const paths = new Map(
    cgroupOf(pid)
      .trim()
      .split('\n')
      .map((line) => line.split(':'))
      .flatMap(([, controllers = '', path = '']) => controllers.split(',').map((c) => [c, path] as const)),
  );
  const memory = Number(readFileSync(`/sys/fs/cgroup/memory${paths.get('memory')}/memory.max_usage_in_bytes`, 'utf8'));
  const stat = readFileSync(`/sys/fs/cgroup/cpu${paths.get('cpu')}/cpu.stat`, 'utf8');
  const field = (name: string) => Number(new RegExp(`${name} (\\d+)`).exec(stat)?.[1] ?? Number.NaN);
  return { peakBytes: memory, throttledPeriods: field('nr_throttled'), throttledMs: field('throttled_time') / 1e6 };
}

function cgroupOf(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return ''; // the process ended meanwhile
  }
}

describe("ASCP's default values file, ASCP's limits (cpu 50m, memory 100Mi)", () => {
  it(`a Deployment of ${STORM} pods starting at once all mount: no OOM kill, no restart, no mount that timed out`, async () => {
    await startStorm(NAMESPACE, 'ascp', STORM);

    const providerPod = (
      await coreV1().listNamespacedPod({ namespace: provider().namespace, labelSelector: `app.kubernetes.io/instance=${provider().release}` })
    ).items[0]!;
    const limits = providerPod.spec!.containers[0]!.resources!.limits!;
    expect(limits).toEqual({ cpu: '50m', memory: '100Mi' });
    const status = providerPod.status!.containerStatuses![0]!;
    expect(status.restartCount).toBe(0);
    expect(status.lastState?.terminated?.reason).toBeUndefined();
    const pods = (await coreV1().listNamespacedPod({ namespace: NAMESPACE, labelSelector: 'app=storm' })).items;
    const failedMounts = (await Promise.all(pods.map((p) => eventsOf(NAMESPACE, p.metadata!.name!)))).flat().filter((e) => e.startsWith('FailedMount'));
    const usage = providerCgroup(status.containerID!.replace(/^.*:\/\//, ''));
    console.log(
      `[node] ASCP limits, storm of ${STORM}: peak memory ${(usage.peakBytes / 2 ** 20).toFixed(1)} MiB of 100 MiB, ` +
        `CPU throttled in ${usage.throttledPeriods} periods (${usage.throttledMs.toFixed(0)} ms), ${failedMounts.length} FailedMount events` +
        (failedMounts[0] === undefined ? '' : `, the first: ${failedMounts[0]}`),
    );
    // No mount ran out of time (throttled CPU would show as the driver's deadline), whatever else kubelet retried.
    expect(failedMounts.filter((e) => /DeadlineExceeded|deadline exceeded|timed out/i.test(e))).toEqual([]);
    expect(usage.peakBytes).toBeLessThan(100 * 2 ** 20);
    await kubeConfig().makeApiClient(AppsV1Api).deleteNamespacedDeployment({ namespace: NAMESPACE, name: 'storm' });
  });
});
