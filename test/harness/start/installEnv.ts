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
  /** An HTTP proxy, as a cluster's egress proxy (the proxy tests). */
  tinyproxy: string;
  gomodcache: string;
}

const installer = fileURLToPath(new URL('../../peers/install.sh', import.meta.url));

/** Each line the installer prints: the field it fills and the installer's peer that provides it. */
const keys = {
  PEER_MOTO_SERVER: ['motoServer', 'moto'],
  PEER_ETCD: ['etcd', 'etcd'],
  PEER_KUBE_APISERVER: ['kubeApiserver', 'kube-apiserver'],
  PEER_KUBE_CONTROLLER_MANAGER: ['kubeControllerManager', 'kube-controller-manager'],
  PEER_CSI_DRIVER: ['csiDriver', 'secrets-store-csi-driver'],
  PEER_HELM: ['helm', 'helm'],
  PEER_IMAGE_NODE: ['imageNode', 'image-node'],
  PEER_KUBELET: ['kubelet', 'kubelet'],
  PEER_KUBE_SCHEDULER: ['kubeScheduler', 'kube-scheduler'],
  PEER_CONTAINERD: ['containerd', 'debian-packages'],
  PEER_CONTAINERD_SHIM_DIR: ['containerdShimDir', 'debian-packages'],
  PEER_CTR: ['ctr', 'debian-packages'],
  PEER_RUNC: ['runc', 'debian-packages'],
  PEER_CNI_BIN_DIR: ['cniBinDir', 'debian-packages'],
  PEER_BUSYBOX: ['busybox', 'debian-packages'],
  PEER_UMOCI: ['umoci', 'debian-packages'],
  PEER_TINYPROXY: ['tinyproxy', 'debian-packages'],
  PEER_GOMODCACHE: ['gomodcache', undefined],
} as const satisfies Record<string, readonly [keyof PeerBinaries, string | undefined]>;

/** A peer test/peers/install.sh knows by name. */
export type PeerName = Exclude<(typeof keys)[keyof typeof keys][1], undefined>;

/**
 * Asks the installer where every peer is. It returns at once when its cache is warm (npm test runs it first) and
 * builds what is missing otherwise, with its progress on our stderr.
 */
export async function locatePeers(): Promise<PeerBinaries> {
  return (await locate([])) as PeerBinaries;
}

/** The fields the named peers fill. */
type FieldsOf<N extends PeerName> = {
  [K in keyof typeof keys]: (typeof keys)[K][1] extends N ? (typeof keys)[K][0] : never;
}[keyof typeof keys];

/** The same for the named peers only: the installer builds no other (the demo needs three of them). */
export async function locateOnly<N extends PeerName>(names: readonly N[]): Promise<Pick<PeerBinaries, FieldsOf<N>>> {
  return (await locate(names)) as Pick<PeerBinaries, FieldsOf<N>>;
}

async function locate(names: readonly PeerName[]): Promise<Partial<PeerBinaries>> {
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = spawn('bash', [installer, '--print-env', ...names], { stdio: ['ignore', 'pipe', 'inherit'] });
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
    if (eq > 0 && key in keys) found[keys[key as keyof typeof keys][0]] = line.slice(eq + 1);
  }
  for (const [key, [field, peer]] of Object.entries(keys)) {
    if (names.length > 0 && peer !== undefined && !names.includes(peer)) continue;
    const path = found[field];
    if (!path) throw new Error(`${installer} --print-env printed no ${key}`);
    accessSync(path, field === 'gomodcache' || field === 'cniBinDir' || field === 'containerdShimDir' ? constants.R_OK : constants.X_OK);
  }
  return found;
}
