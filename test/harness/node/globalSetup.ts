import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { TestProject } from 'vitest/node';
import { parse } from 'yaml';
import { installDriverCrds } from '../csi/crds.js';
import { CHART_DIR } from '../helm.js';
import type { PeersInfo } from '../peers.js';
import { DRIVER_NAME } from '../csi/driver.js';
import { locateDriverModuleFiles } from '../csi/moduleCache.js';
import { startEtcd } from '../start/etcd.js';
import { locatePeers, type PeerBinaries } from '../start/installEnv.js';
import { startKubeApiserver, type RunningKubeApiserver } from '../start/kubeApiserver.js';
import { startMoto } from '../start/moto.js';
import { freePort } from '../start/net.js';
import { peerError, startPeer, stopAllPeers, stopPeer, waitReady, type PeerProcess } from '../start/process.js';
import { startContainerd, type RunningContainerd } from './containerd.js';
import { SCHEDULER_USER, startNodeControllerManager, startScheduler } from './controlPlane.js';
import { buildBusyboxImages, buildProviderImage } from './image.js';
import { NODE_NAME, startKubelet, type RunningKubelet } from './kubelet.js';
import type { NodeInfo } from './info.js';
import { makeNodePki } from './pki.js';
import { startPluginRegistrar, type PluginRegistrar } from './pluginRegistrar.js';
import { nodeProcesses } from './egress.js';
import { killPids, removeNodeHostFiles, removePodCgroups, unmountBelow } from './teardown.js';

const ROOT = new URL('../../../', import.meta.url).pathname;

/**
 * The test node, once per run of the `node` project, every address on loopback: moto, etcd, kube-apiserver,
 * kube-controller-manager (the node's controllers), kube-scheduler, containerd, kubelet, and the Secrets Store CSI
 * driver as a host process registered with kubelet through a registrar stand-in. The images (the provider's, built
 * from the Dockerfile's steps; busybox; the pause image) are imported into containerd before kubelet starts, so
 * nothing is ever pulled. Teardown (also after a failed start) leaves no process, shim, mount or pod cgroup.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const node = await startNode(await locatePeers());
  project.provide('peers', node.peers);
  project.provide('node', node.info);
  return node.teardown;
}

export interface StartedNode {
  peers: PeersInfo;
  info: NodeInfo;
  teardown(): Promise<void>;
}

export async function startNode(binaries: PeerBinaries): Promise<StartedNode> {
  const started = Date.now();
  // Short: the kubelet's and containerd's socket paths live below it, and a unix socket path has 108 bytes.
  const runDir = mkdtempSync(join(tmpdir(), 'node-'));
  const logDir = join(runDir, 'logs');
  mkdirSync(logDir);
  let containerd: RunningContainerd | undefined;
  let kubelet: RunningKubelet | undefined;
  let kube: RunningKubeApiserver | undefined;
  let registrar: PluginRegistrar | undefined;
  const control: PeerProcess[] = [];
  let driver: PeerProcess | undefined;
  // Vitest exits on SIGINT/SIGTERM without running teardowns: process.ts SIGKILLs the peers on 'exit'; the shims
  // and the containers (children of no peer: a container outlives its killed shim) need this too, then the mounts
  // and the pod cgroups. Only synchronous work is possible here.
  const onExit = () => {
    if (containerd) {
      const sockets = containerd.shimSockets();
      killPids(nodeProcesses([], containerd.socket));
      for (const socket of sockets) rmSync(socket, { force: true });
      // The killed processes leave their cgroups a moment later.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
    }
    unmountBelow(runDir);
    removePodCgroups();
    if (containerd) removeNodeHostFiles();
    rmSync(runDir, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  const teardown = async () => {
    const problems: string[] = [];
    // No controller may create pods while they go, then every pod goes, so kubelet stops its containers and has the
    // driver unmount its volumes.
    for (const peer of control) await stopPeer(peer);
    if (kube && kubelet) problems.push(...(await deleteAllPods(kube)));
    if (driver) await stopPeer(driver);
    registrar?.close();
    if (kubelet) await stopPeer(kubelet.process);
    if (containerd) {
      // Sandboxes kubelet had not removed yet: their tasks, then containerd; a shim left then is killed.
      await killTasks(containerd).catch((err: Error) => problems.push(err.message));
      await stopPeer(containerd.process);
      const shims = containerd.shimPids();
      if (shims.length > 0) problems.push(`killed ${shims.length} containerd shim(s) that outlived containerd`);
      const sockets = containerd.shimSockets();
      killPids(nodeProcesses(shims, containerd.socket));
      for (const socket of sockets) rmSync(socket, { force: true });
    }
    await stopAllPeers();
    unmountBelow(runDir);
    if (containerd) removeNodeHostFiles();
    const cgroups = removePodCgroups();
    if (cgroups.length > 0) problems.push(`pod cgroups still in use: ${cgroups.join(', ')}`);
    process.removeListener('exit', onExit);
    rmSync(runDir, { recursive: true, force: true });
    if (problems.length > 0) console.error(`[node] teardown: ${problems.join('; ')}`);
  };

  try {
    const imagesDir = join(runDir, 'images');
    const images = Promise.all([buildProviderImage(binaries, imagesDir), buildBusyboxImages(binaries, imagesDir)]);
    // Awaited below; a start that fails first must not leave its rejection unhandled.
    images.catch(() => undefined);
    const pki = await makeNodePki(join(runDir, 'node-pki'));
    const nodeToken = randomBytes(24).toString('hex');
    const schedulerToken = randomBytes(24).toString('hex');
    const [moto, etcd] = await Promise.all([startMoto(binaries.motoServer, logDir), startEtcd(binaries.etcd, runDir, logDir)]);
    kube = await startKubeApiserver(binaries.kubeApiserver, etcd.url, runDir, logDir, {
      users: [
        { token: nodeToken, name: `system:node:${NODE_NAME}`, groups: ['system:nodes'] },
        { token: schedulerToken, name: SCHEDULER_USER },
      ],
      args: [
        `--kubelet-client-certificate=${pki.apiserverClientCertFile}`,
        `--kubelet-client-key=${pki.apiserverClientKeyFile}`,
        `--kubelet-certificate-authority=${pki.caFile}`,
        '--kubelet-preferred-address-types=InternalIP',
      ],
    });
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kube.kubeconfigPath);
    const driverFiles = locateDriverModuleFiles(binaries.gomodcache, binaries.csiDriver);
    await installDriverCrds(kubeConfig, driverFiles.crdFiles);
    await createCsiDriverObject(kube);
    control.push(await startNodeControllerManager(binaries.kubeControllerManager, kube, join(runDir, 'pki', 'sa.key'), runDir, logDir));
    control.push(await startScheduler(binaries.kubeScheduler, kube, schedulerToken, runDir, logDir));

    const built = await images;
    const [provider, { busybox, pause }] = built;
    const sandboxImage = `localhost/pause:${pause.tag}`;
    containerd = await startContainerd(binaries, join(runDir, 'containerd'), logDir, sandboxImage);
    await containerd.importImage(pause.archive, 'localhost/pause');
    await containerd.importImage(busybox.archive, 'localhost/busybox');
    await containerd.importImage(provider.archive, 'localhost/aws-secrets-csi-provider');

    kubelet = await startKubelet({
      binary: binaries.kubelet,
      kube,
      token: nodeToken,
      pki,
      containerdSocket: containerd.socket,
      dir: join(runDir, 'kubelet'),
      logDir,
    });

    const providerVolume = join(runDir, 'providers');
    mkdirSync(providerVolume);
    const pluginDir = join(kubelet.rootDir, 'plugins', 'csi-secrets-store');
    mkdirSync(pluginDir, { recursive: true });
    const csiSocket = join(pluginDir, 'csi.sock');
    const driverMetricsPort = await freePort();
    driver = startPeer(
      'secrets-store-csi-driver',
      binaries.csiDriver,
      [
        `--endpoint=unix://${csiSocket}`,
        `--nodeid=${NODE_NAME}`,
        `--provider-volume=${providerVolume}`,
        // Its default (/etc/kubernetes/secrets-store-csi-providers) is a host path: look only in ours.
        `--additional-provider-volume-paths=${providerVolume}`,
        `--kubeconfig=${kube.kubeconfigPath}`,
        `--metrics-addr=127.0.0.1:${driverMetricsPort}`,
        '--enable-secret-rotation',
        `--rotation-poll-interval=${ROTATION_POLL_SECONDS}s`,
        '-v=3',
      ],
      join(logDir, 'secrets-store-csi-driver.log'),
    );
    await waitReady(driver, async () => existsSync(csiSocket), 30_000);
    registrar = await startPluginRegistrar({
      proto: join(binaries.gomodcache, `k8s.io/kubelet@${stagingVersion()}`, 'pkg/apis/pluginregistration/v1/api.proto'),
      kubeletRootDir: kubelet.rootDir,
      driverName: DRIVER_NAME,
      csiEndpoint: csiSocket,
    });
    const registered = registrar.registered.then(() => true);
    await waitReady(kubelet.process, () => Promise.race([registered, sleep(500, false)]), 60_000);

    // The peers as the other projects see them, so that their helpers (moto, kube, the SPC objects) serve here too.
    const peers: PeersInfo = {
      motoUrl: moto.url,
      etcdUrl: etcd.url,
      kube: { server: kube.server, token: kube.token, caFile: kube.caFile, kubeconfigPath: kube.kubeconfigPath },
      runDir,
      logDir,
      logs: Object.fromEntries(
        [moto.process, etcd.process, kube.process, ...control, containerd.process, kubelet.process, driver].map((p) => [p.name, p.logFile]),
      ),
      binaries: (({ gomodcache: _, ...programs }) => programs)(binaries),
      gomodcache: binaries.gomodcache,
    };
    const info: NodeInfo = {
      nodeName: NODE_NAME,
      images: {
        provider: `localhost/aws-secrets-csi-provider:${provider.tag}`,
        providerLayout: provider.layout,
        busybox: `localhost/busybox:${busybox.tag}`,
      },
      imageNode: binaries.imageNode,
      providerVolume,
      faultProxyPort: await freePort(),
      rotationPollSeconds: ROTATION_POLL_SECONDS,
      processes: {
        pids: [kubelet.process, containerd.process, driver].map((p) => p.child.pid).filter((pid): pid is number => pid !== undefined),
        containerdSocket: containerd.socket,
      },
    };
    console.log(`[node] ${NODE_NAME} Ready, driver registered, images imported: ${Date.now() - started} ms (run dir ${runDir})`);
    return { peers, info, teardown };
  } catch (err) {
    await teardown();
    throw err;
  }
}

/** The driver's --rotation-poll-interval: a rotated value reaches a running pod within about this long. */
const ROTATION_POLL_SECONDS = 2;

function stagingVersion(): string {
  const version = /^KUBERNETES_STAGING_VERSION=(\S+)$/m.exec(readFileSync(join(ROOT, 'test/peers/versions.env'), 'utf8'))?.[1];
  if (!version) throw new Error('test/peers/versions.env has no KUBERNETES_STAGING_VERSION');
  return version;
}

/**
 * The CSIDriver object as the driver's chart creates it, with the token audiences and re-publishing our chart's
 * values give the driver (secrets-store-csi-driver.tokenRequests, enableSecretRotation).
 */
async function createCsiDriverObject(kube: RunningKubeApiserver): Promise<void> {
  const values = parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')) as {
    'secrets-store-csi-driver': { tokenRequests: { audience: string }[] };
  };
  const { status, text } = await kube.call('POST', '/apis/storage.k8s.io/v1/csidrivers', {
    metadata: { name: DRIVER_NAME },
    spec: {
      podInfoOnMount: true,
      attachRequired: false,
      volumeLifecycleModes: ['Ephemeral'],
      tokenRequests: values['secrets-store-csi-driver'].tokenRequests,
      requiresRepublish: true,
    },
  });
  if (status !== 201) throw peerError(kube.process, `refused the CSIDriver object: HTTP ${status} ${text}`);
}

/** Deletes every pod and waits (60 s at most) until kubelet has confirmed each deletion; returns what is left. */
async function deleteAllPods(kube: RunningKubeApiserver): Promise<string[]> {
  const list = async () =>
    (JSON.parse((await kube.call('GET', '/api/v1/pods')).text) as { items: { metadata: { name: string; namespace: string } }[] }).items;
  for (const pod of await list()) {
    await kube.call('DELETE', `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}?gracePeriodSeconds=1`);
  }
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if ((await list()).length === 0) return [];
    await sleep(500);
  }
  return [`pods kubelet did not finish deleting: ${(await list()).map((p) => `${p.metadata.namespace}/${p.metadata.name}`).join(', ')}`];
}

/** Kills and deletes every task containerd still runs (sandboxes kubelet had no time to remove). */
async function killTasks(containerd: RunningContainerd): Promise<void> {
  const ids = (await containerd.ctr(['tasks', 'ls', '-q'])).split('\n').filter(Boolean);
  for (const id of ids) await containerd.ctr(['tasks', 'kill', '-s', 'SIGKILL', id]).catch(() => undefined);
  for (const id of ids) await containerd.ctr(['tasks', 'rm', '-f', id]).catch(() => undefined);
}
