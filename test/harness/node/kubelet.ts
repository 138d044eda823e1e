import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { kubeconfig, type RunningKubeApiserver } from '../start/kubeApiserver.js';
import { freePort } from '../start/net.js';
import { startPeer, waitReady, type PeerProcess } from '../start/process.js';
import type { NodePki } from './pki.js';

const run = promisify(execFile);

/** The node's one address: probes, logs and exec stay on loopback. */
export const NODE_IP = '127.0.0.1';
/**
 * The node's name, which is its address: kubelet refuses a loopback --node-ip ("nodeIP can't be loopback address")
 * and then reports no address at all, but takes an IP given as --hostname-override as the node's InternalIP
 * unchecked. The CSI driver's --nodeid is the same.
 */
export const NODE_NAME = NODE_IP;

export interface RunningKubelet {
  /** --root-dir: pods, volumes, plugins and plugins_registry below it; a shared mount, so mounts propagate. */
  rootDir: string;
  process: PeerProcess;
}

/**
 * Starts kubelet as the node NODE_NAME, authenticated as system:node:NODE_NAME (token), and waits until the Node is
 * Ready. The settings this machine needs: cgroup v1 with cgroupfs, no swap check, oomScoreAdj 0 (no
 * CAP_SYS_RESOURCE: a negative value cannot be written), the node's address 127.0.0.1 for its server, its serving
 * certificate and its Node status (NODE_NAME); every directory it writes below `dir`.
 */
export async function startKubelet(o: {
  binary: string;
  kube: RunningKubeApiserver;
  /** Bearer token of system:node:NODE_NAME (group system:nodes). */
  token: string;
  pki: NodePki;
  containerdSocket: string;
  dir: string;
  logDir: string;
}): Promise<RunningKubelet> {
  const rootDir = join(o.dir, 'root');
  await mkdir(rootDir, { recursive: true });
  // The CSI driver's tmpfs mounts below the root dir must reach the containers that bind it (as on a real node,
  // where /var/lib/kubelet is shared): a shared bind mount of the directory onto itself.
  await run('mount', ['--bind', rootDir, rootDir]);
  await run('mount', ['--make-rshared', rootDir]);
  const kubeconfigPath = join(o.dir, 'kubeconfig');
  await writeFile(kubeconfigPath, kubeconfig(o.kube.server, o.kube.caFile, `system:node:${NODE_NAME}`, o.token), { mode: 0o600 });
  const [port, healthzPort] = [await freePort(), await freePort()];
  const endpoint = `unix://${o.containerdSocket}`;
  const config = {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: NODE_IP,
    port,
    readOnlyPort: 0,
    healthzBindAddress: NODE_IP,
    healthzPort,
    tlsCertFile: o.pki.kubeletCertFile,
    tlsPrivateKeyFile: o.pki.kubeletKeyFile,
    // The apiserver's client certificate; other callers are checked with the apiserver (SubjectAccessReview).
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: o.pki.caFile } },
    authorization: { mode: 'Webhook' },
    containerRuntimeEndpoint: endpoint,
    imageServiceEndpoint: endpoint,
    cgroupDriver: 'cgroupfs',
    failCgroupV1: false,
    failSwapOn: false,
    oomScoreAdj: 0,
    // kubelet's own node shutdown manager needs systemd-logind.
    shutdownGracePeriod: '0s',
    shutdownGracePeriodCriticalPods: '0s',
    podLogsDir: join(o.dir, 'pod-logs'),
    volumePluginDir: join(o.dir, 'volume-plugins'),
    // Never delete the imported images (nothing could pull them back), and evict nothing on a busy test machine.
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    evictionHard: { 'memory.available': '1Mi', 'nodefs.available': '0%', 'imagefs.available': '0%', 'nodefs.inodesFree': '0%' },
    // A rotated secret is re-published on the driver's poll; kubelet's own pod sync is what starts the NodePublish
    // of a new pod, so keep it prompt.
    syncFrequency: '10s',
    resolvConf: '/etc/resolv.conf',
    registerNode: true,
    serializeImagePulls: false,
  };
  const configPath = join(o.dir, 'config.yaml');
  await writeFile(configPath, stringify(config));
  const peer = startPeer(
    'kubelet',
    o.binary,
    [
      `--config=${configPath}`,
      `--kubeconfig=${kubeconfigPath}`,
      `--root-dir=${rootDir}`,
      `--cert-dir=${join(o.dir, 'pki')}`,
      `--hostname-override=${NODE_NAME}`,
      '--v=2',
    ],
    join(o.logDir, 'kubelet.log'),
  );
  await waitReady(
    peer,
    async () => {
      const { status, text } = await o.kube.call('GET', `/api/v1/nodes/${NODE_NAME}`);
      if (status !== 200) return false;
      const node = JSON.parse(text) as { status?: { conditions?: { type: string; status: string; message?: string }[] } };
      const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
      if (ready?.status !== 'True') throw new Error(`Node ${NODE_NAME} not Ready: ${ready?.message ?? 'no Ready condition'}`);
      return true;
    },
    90_000,
  );
  return { rootDir, process: peer };
}
