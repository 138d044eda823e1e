import { AppsV1Api } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSecretProviderClass } from '../harness/csi/cluster.js';
import { coreV1, kubeConfig } from '../harness/kube.js';
import { createSecret, putSecretValue } from '../harness/moto.js';
import { appPod, eventsOf, startStorm, useNodeProvider, waitFor, waitForView, waitPodRunning } from '../harness/node/workloads.js';

const NAMESPACE = 'node-lifecycle';
const provider = useNodeProvider(NAMESPACE);
const REGION = 'us-west-2';
const SPC = 'life';
const STORM = 30;

beforeAll(async () => {
  await createSecret(REGION, 'LifeSecret', 'life-v1');
  await createSecretProviderClass(NAMESPACE, SPC, { parameters: { region: REGION, objects: '- objectName: LifeSecret\n  objectType: secretsmanager\n' } });
});

async function startPod(name: string): Promise<void> {
  await coreV1().createNamespacedPod({ namespace: NAMESPACE, body: appPod({ namespace: NAMESPACE, name, serviceAccountName: 'app', spc: SPC }) });
}

async function providerPods(): Promise<string[]> {
  const pods = await coreV1().listNamespacedPod({ namespace: provider().namespace, labelSelector: `app.kubernetes.io/instance=${provider().release}` });
  return pods.items.filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.metadata!.uid!);
}

describe('the chart through its life on a node', () => {
  it('helm upgrade rolls the DaemonSet while pods stay mounted: rotation goes on, and a pod created during the roll mounts', async () => {
    await startPod('before');
    await waitPodRunning(NAMESPACE, 'before');
    await waitForView(NAMESPACE, 'before', (v) => v.files.LifeSecret === 'life-v1');
    const [oldProvider] = await providerPods();

    const upgrade = provider().upgrade({ logLevel: 'debug' });
    await startPod('during');
    await upgrade;
    const rolled = await providerPods();
    expect(rolled).toHaveLength(1);
    expect(rolled[0]).not.toBe(oldProvider);
    await waitPodRunning(NAMESPACE, 'during');
    await waitForView(NAMESPACE, 'during', (v) => v.files.LifeSecret === 'life-v1');

    await putSecretValue(REGION, 'LifeSecret', 'life-v2');
    for (const pod of ['before', 'during']) {
      const view = await waitForView(NAMESPACE, pod, (v) => v.files.LifeSecret === 'life-v2', 150_000);
      expect(view.files).toEqual({ LifeSecret: 'life-v2' });
    }
  });

  it(`a Deployment of ${STORM} pods starting at once: all Ready, every AWS call answered, the calls counted`, async () => {
    provider().proxy.clearRecords();
    await startStorm(NAMESPACE, SPC, STORM);
    const pods = (await coreV1().listNamespacedPod({ namespace: NAMESPACE, labelSelector: 'app=storm' })).items;
    expect(pods).toHaveLength(STORM);
    for (const pod of pods) {
      const view = await waitForView(NAMESPACE, pod.metadata!.name!, () => true);
      expect(view.files).toEqual({ LifeSecret: 'life-v2' });
    }
    const calls = provider().proxy.records.filter((r) => r.service === 'secretsmanager' || r.service === 'sts');
    const fetches = calls.filter((r) => r.service === 'secretsmanager');
    console.log(`[node] storm of ${STORM} pods: ${fetches.length} Secrets Manager calls, ${calls.length - fetches.length} STS calls`);
    expect(fetches.length).toBeGreaterThanOrEqual(1);
    expect(calls.filter((r) => r.status !== 200)).toEqual([]);
    await kubeConfig().makeApiClient(AppsV1Api).deleteNamespacedDeployment({ namespace: NAMESPACE, name: 'storm' });
  });

  it("helm uninstall: a running pod keeps its files; a new pod fails to mount with the driver's message", async () => {
    await provider().uninstall();
    await waitFor('the provider pod is gone', async () => ((await providerPods()).length === 0 ? true : undefined));
    const kept = await waitForView(NAMESPACE, 'before', () => true);
    expect(kept.files).toEqual({ LifeSecret: 'life-v2' });

    await startPod('after');
    const failed = await waitFor('a FailedMount event for the new pod', async () =>
      (await eventsOf(NAMESPACE, 'after')).find((e) => e.startsWith('FailedMount')),
    );
    // The driver keeps waiting for the provider's socket to answer until kubelet's deadline for the mount (2 min)
    // runs out; kubelet then reports it, and retries.
    expect(failed).toMatch(/^FailedMount: MountVolume\.SetUp failed for volume "secrets" : rpc error: code = (DeadlineExceeded|Unknown)/);
    const pod = await coreV1().readNamespacedPod({ namespace: NAMESPACE, name: 'after' });
    expect(pod.status?.phase).toBe('Pending');
  });
});
