import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface PeerBinaries {
  motoServer: string;
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  csiDriver: string;
  helm: string;
  /** The Node.js the image runs (versions.env IMAGE_NODE_VERSION). */
  imageNode: string;
  /** The test node: kubelet and kube-scheduler (built like kube-apiserver), containerd, runc, CNI plugins (Debian). */
  kubelet: string;
  kubeScheduler: string;
  containerd: string;
  /** Where containerd-shim-runc-v2 is: containerd finds its shim on PATH. */
  containerdShimDir: string;
  ctr: string;
  runc: string;
  cniBinDir: string;
  /** Static busybox and umoci: the node's test and pause images. */
  busybox: string;
  umoci: string;
  gomodcache: string;
}

const installer = fileURLToPath(new URL('../../peers/install.sh', import.meta.url));

const keys = {
  PEER_MOTO_SERVER: 'motoServer',
  PEER_ETCD: 'etcd',
  PEER_KUBE_APISERVER: 'kubeApiserver',
  PEER_KUBE_CONTROLLER_MANAGER: 'kubeControllerManager',
  PEER_CSI_DRIVER: 'csiDriver',
  PEER_HELM: 'helm',
  PEER_IMAGE_NODE: 'imageNode',
  PEER_KUBELET: 'kubelet',
  PEER_KUBE_SCHEDULER: 'kubeScheduler',
  PEER_CONTAINERD: 'containerd',
  PEER_CONTAINERD_SHIM_DIR: 'containerdShimDir',
  PEER_CTR: 'ctr',
  PEER_RUNC: 'runc',
  PEER_CNI_BIN_DIR: 'cniBinDir',
  PEER_BUSYBOX: 'busybox',
  PEER_UMOCI: 'umoci',
  PEER_GOMODCACHE: 'gomodcache',
} as const satisfies Record<string, keyof PeerBinaries>;

/**
 * Asks the installer where the peers are. It returns at once when its cache is warm (npm test runs it first) and
 * builds what is missing otherwise, with its progress on our stderr.
 */
export async function locatePeers(): Promise<PeerBinaries> {
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = spawn('bash', [installer, '--print-env'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0 ? resolve(out) : reject(new Error(`${installer} --print-env failed (${signal ?? `exit code ${code}`})`)),
    );
  });
  const found: Partial<PeerBinaries> = {};
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    const key = line.slice(0, eq);
    if (eq > 0 && key in keys) found[keys[key as keyof typeof keys]] = line.slice(eq + 1);
  }
  for (const [key, field] of Object.entries(keys)) {
    const path = found[field];
    if (!path) throw new Error(`${installer} --print-env printed no ${key}`);
    accessSync(path, field === 'gomodcache' || field === 'cniBinDir' || field === 'containerdShimDir' ? constants.R_OK : constants.X_OK);
  }
  return found as PeerBinaries;
}
