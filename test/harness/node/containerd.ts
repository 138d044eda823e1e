import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startPeer, waitReady, type PeerProcess } from '../start/process.js';

const run = promisify(execFile);

const SHIM_SOCKET_DIR = '/run/containerd/s';

/** containerd's CRI namespace: what kubelet sees, and where images must be imported. */
export const CRI_NAMESPACE = 'k8s.io';

export interface ContainerdBinaries {
  containerd: string;
  containerdShimDir: string;
  ctr: string;
  runc: string;
  cniBinDir: string;
}

export interface RunningContainerd {
  /** The CRI and containerd API socket (unix path). */
  socket: string;
  /** Its root and state directories: removed at teardown, after its shims are gone. */
  dirs: string[];
  process: PeerProcess;
  /** `ctr -n k8s.io …` against this containerd. */
  ctr(args: string[]): Promise<string>;
  /** Imports an OCI archive; the archive's tag is appended to baseName (`localhost/name` → `localhost/name:tag`). */
  importImage(archive: string, baseName: string): Promise<void>;
  /** Pids of this containerd's shims (they outlive containerd when a container still runs). */
  shimPids(): number[];
  /**
   * The sockets of this containerd's shims: containerd 1.6 puts them in /run/containerd/s whatever its state dir, and
   * a killed shim leaves its socket there.
   */
  shimSockets(): string[];
}

/**
 * containerd for the test node, with its own root, state, socket and config: the machine's containerd (if any) is
 * never touched. The CRI plugin never pulls (the sandbox image is imported before kubelet starts, pods use
 * imagePullPolicy Never), builds no pod network (a loopback-only CNI config: the node is Ready, every pod uses the
 * host network), and does not lower oom_score_adj (this VM's root lacks CAP_SYS_RESOURCE, and a negative value makes
 * every sandbox fail with `can't get final child's PID from pipe: EOF`).
 */
export async function startContainerd(
  binaries: ContainerdBinaries,
  dir: string,
  logDir: string,
  sandboxImage: string,
): Promise<RunningContainerd> {
  const root = join(dir, 'root');
  const state = join(dir, 'state');
  const cniConfDir = join(dir, 'cni');
  const socket = join(state, 'containerd.sock');
  await mkdir(cniConfDir, { recursive: true });
  await writeFile(
    join(cniConfDir, '10-loopback.conflist'),
    JSON.stringify({ cniVersion: '1.0.0', name: 'loopback', plugins: [{ type: 'loopback' }] }),
  );
  const configFile = join(dir, 'config.toml');
  await writeFile(configFile, config({ root, state, socket, cniConfDir, sandboxImage, ...binaries }));
  // containerd starts containerd-shim-runc-v2 from its PATH, which it inherits from this process.
  if (!(process.env.PATH ?? '').split(':').includes(binaries.containerdShimDir)) {
    throw new Error(`containerd-shim-runc-v2 is in ${binaries.containerdShimDir}, which is not on PATH`);
  }
  const peer = startPeer('containerd', binaries.containerd, ['--config', configFile], join(logDir, 'containerd.log'));
  const ctr = async (args: string[]) =>
    (await run(binaries.ctr, ['--address', socket, '--namespace', CRI_NAMESPACE, ...args], { maxBuffer: 16 << 20 })).stdout;
  await waitReady(peer, async () => existsSync(socket) && (await ctr(['version'])).includes('Server'), 30_000);
  return {
    socket,
    dirs: [root, state],
    process: peer,
    ctr,
    async importImage(archive, baseName) {
      await ctr(['images', 'import', '--base-name', baseName, archive]);
    },
    shimPids: () => shimPidsOf(socket),
    shimSockets: () =>
      shimPidsOf(socket).flatMap((pid) => {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        const id = argv[argv.indexOf('-id') + 1];
        // containerd 1.6's shim.SocketAddress: sha256 of <containerd address>/<namespace>/<id>.
        return id ? [join(SHIM_SOCKET_DIR, createHash('sha256').update(join(socket, CRI_NAMESPACE, id)).digest('hex'))] : [];
      }),
  };
}

function config(o: ContainerdBinaries & { root: string; state: string; socket: string; cniConfDir: string; sandboxImage: string }): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `version = 2
root = ${JSON.stringify(o.root)}
state = ${JSON.stringify(o.state)}
# Snapshotters this machine cannot use would only log errors.
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = ${JSON.stringify(o.socket)}

[plugins."io.containerd.internal.v1.opt"]
  path = ${JSON.stringify(join(o.root, 'opt'))}

[${cri}]
  sandbox_image = ${JSON.stringify(o.sandboxImage)}
  restrict_oom_score_adj = true
  enable_selinux = false
  disable_apparmor = true
  # exec and logs: kubelet hands the apiserver a URL of this server.
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"

[${cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[${cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[${cri}.containerd.runtimes.runc.options]
  BinaryName = ${JSON.stringify(o.runc)}
  # runc's state (default /run/containerd/runc) with ours.
  Root = ${JSON.stringify(join(o.state, 'runc'))}
  SystemdCgroup = false

[${cri}.cni]
  bin_dir = ${JSON.stringify(o.cniBinDir)}
  conf_dir = ${JSON.stringify(o.cniConfDir)}
  max_conf_num = 1
`;
}

/** The shims serving this containerd: their command line names its socket (`-address`). */
function shimPidsOf(socket: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv[0]?.endsWith('containerd-shim-runc-v2') && argv.includes(socket)) pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}
