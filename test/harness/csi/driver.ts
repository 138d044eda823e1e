import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../start/net.js';
import { peerError, startPeer, stopPeer, waitReady, type PeerProcess } from '../start/process.js';
import { tailFile } from '../logs.js';
import { connectCsiClient, type CsiClient } from './csiClient.js';

export const DRIVER_NAME = 'secrets-store.csi.k8s.io';

export interface StartCsiDriverOptions {
  binary: string;
  /** csi.proto of the spec version the driver was built with. */
  csiProto: string;
  kubeconfigPath: string;
  nodeId: string;
  /** Directory that holds our provider's aws.sock. */
  providerVolume: string;
  /** Parent of this driver's own directory (kubelet dir, socket); the whole directory is removed at stop. */
  parentDir: string;
  logDir: string;
  /** --rotation-poll-interval in seconds: a re-publish sooner than this after the last write is skipped. */
  rotationPollSeconds?: number;
}

export interface MountInfo {
  mountPoint: string;
  fsType: string;
  source: string;
}

export interface RunningCsiDriver {
  readonly nodeId: string;
  /** The driver's pid: setpriv and unshare exec into it, so this is the process inside the mount namespace. */
  readonly pid: number;
  readonly socketPath: string;
  /** Stands in for /var/lib/kubelet: target paths are <kubeletDir>/pods/<uid>/volumes/kubernetes.io~csi/<vol>/mount. */
  readonly kubeletDir: string;
  readonly metricsUrl: string;
  readonly logFile: string;
  readonly rotationPollSeconds: number;
  readonly client: CsiClient;
  readonly peer: PeerProcess;
  /**
   * The same path as the driver sees it, from this process: /proc/<pid>/root/<path>. A path walk through a
   * process's root link crosses the mounts of that process's mount namespace, so this reads the driver's tmpfs.
   */
  inNamespace(path: string): string;
  /** The mounts of the driver's namespace (/proc/<pid>/mountinfo). */
  mounts(): MountInfo[];
  /** Prometheus text of the driver's metrics endpoint. */
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts the real secrets-store-csi-driver outside kubelet, in a mount namespace of its own
 * (`unshare --mount --propagation private`): its tmpfs mounts never reach the host's namespace, and they vanish
 * with the process. Files it creates on the host's filesystems (its socket, the target directories) are seen by
 * both sides; what it mounts is seen only through /proc/<pid>/root.
 */
export async function startCsiDriver(options: StartCsiDriverOptions): Promise<RunningCsiDriver> {
  const root = mkdtempSync(join(options.parentDir, 'csi-'));
  const kubeletDir = join(root, 'kubelet');
  const socketDir = join(root, 'plugin');
  mkdirSync(kubeletDir);
  mkdirSync(socketDir);
  const socketPath = join(socketDir, 'csi.sock');
  const metricsPort = await freePort();
  const rotationPollSeconds = options.rotationPollSeconds ?? 1;
  const logFile = join(options.logDir, `secrets-store-csi-driver-${options.nodeId}.log`);
  const peer = startPeer(
    `secrets-store-csi-driver (${options.nodeId})`,
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      '--',
      options.binary,
      `--endpoint=unix://${socketPath}`,
      `--nodeid=${options.nodeId}`,
      `--provider-volume=${options.providerVolume}`,
      // Its default (/etc/kubernetes/secrets-store-csi-providers) is a host path: look only in ours.
      `--additional-provider-volume-paths=${options.providerVolume}`,
      `--kubeconfig=${options.kubeconfigPath}`,
      `--metrics-addr=127.0.0.1:${metricsPort}`,
      '--enable-secret-rotation',
      `--rotation-poll-interval=${rotationPollSeconds}s`,
      '-v=5',
    ],
    logFile,
  );
  const pid = peer.child.pid;
  const client = connectCsiClient(options.csiProto, socketPath);
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  try {
    if (pid === undefined) throw peerError(peer, 'has no pid (spawn failed)');
    await waitReady(
      peer,
      async () => {
        if (!existsSync(socketPath)) return false;
        await client.probe();
        return (await fetch(metricsUrl)).ok;
      },
      30_000,
    );
    // Never let a tmpfs land in the host's namespace: the driver must be in a namespace of its own.
    if (readlinkSync(`/proc/${pid}/ns/mnt`) === readlinkSync('/proc/self/ns/mnt')) {
      throw peerError(peer, 'runs in the mount namespace of the tests: unshare did not take effect');
    }
  } catch (err) {
    client.close();
    await stopPeer(peer);
    rmSync(root, { recursive: true, force: true });
    throw err;
  }

  return {
    nodeId: options.nodeId,
    pid,
    socketPath,
    kubeletDir,
    metricsUrl,
    logFile,
    rotationPollSeconds,
    client,
    peer,
    inNamespace: (path) => `/proc/${pid}/root${path}`,
    mounts: () => parseMountInfo(readFileSync(`/proc/${pid}/mountinfo`, 'utf8')),
    metrics: async () => {
      const res = await fetch(metricsUrl);
      if (!res.ok) throw new Error(`driver metrics answered HTTP ${res.status}`);
      return res.text();
    },
    async stop() {
      client.close();
      await stopPeer(peer);
      // The namespace died with the driver and took its tmpfs mounts along: only plain directories are left.
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** The last lines of the driver's log, for a failure message. */
export function driverLogTail(driver: RunningCsiDriver, lines = 60): string {
  return `----- last lines of ${driver.peer.name} (${driver.logFile}) -----\n${tailFile(driver.logFile, lines)}`;
}

function parseMountInfo(text: string): MountInfo[] {
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [left = '', right = ''] = line.split(' - ');
      const fields = left.split(' ');
      const [fsType = '', source = ''] = right.split(' ');
      return { mountPoint: unescape(fields[4] ?? ''), fsType, source: unescape(source) };
    });
}
