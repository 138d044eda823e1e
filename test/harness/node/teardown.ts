import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** Mount points at or below `dir` in this process's namespace, deepest first. */
export function mountsBelow(dir: string): string[] {
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .trim()
    .split('\n')
    .map((line) => unescape(line.split(' ')[4] ?? ''))
    .filter((point) => point === dir || point.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

/** Unmounts everything at or below `dir` (a lazy unmount when busy); returns what it unmounted. */
export function unmountBelow(dir: string): string[] {
  const done: string[] = [];
  for (let round = 0; round < 10; round++) {
    const points = mountsBelow(dir);
    if (points.length === 0) break;
    for (const point of points) {
      try {
        execFileSync('umount', [point], { stdio: 'ignore' });
      } catch {
        try {
          execFileSync('umount', ['-l', point], { stdio: 'ignore' });
        } catch {
          // Already gone with its parent.
        }
      }
      done.push(point);
    }
  }
  return done;
}

/**
 * Removes the cgroups kubelet made for pods (its QoS tree `kubepods` in every v1 hierarchy, or in the unified one),
 * deepest first; a cgroup still holding a process stays and is returned.
 */
export function removePodCgroups(): string[] {
  const base = '/sys/fs/cgroup';
  const roots = existsSync(join(base, 'cgroup.controllers'))
    ? [join(base, 'kubepods')]
    : readdirSync(base).map((controller) => join(base, controller, 'kubepods'));
  const left: string[] = [];
  const remove = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) remove(join(dir, entry.name));
    try {
      rmdirSync(dir);
    } catch {
      left.push(dir);
    }
  };
  for (const root of roots) if (existsSync(root)) remove(root);
  return left;
}

/** SIGKILL to each pid that still exists. */
export function killPids(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/**
 * What kubelet and containerd put on fixed host paths whatever their root and state directories: kubelet's device
 * manager socket (/var/lib/kubelet/device-plugins/kubelet.sock) and containerd 1.6's directories for shim sockets and
 * fifos (/run/containerd/s, /run/containerd/fifo). Removes the socket, and each directory that is empty (another
 * kubelet's or containerd's files stay).
 */
export function removeNodeHostFiles(): void {
  const dir = '/var/lib/kubelet/device-plugins';
  rmSync(join(dir, 'kubelet.sock'), { force: true });
  for (const path of [dir, '/var/lib/kubelet', '/run/containerd/s', '/run/containerd/fifo', '/run/containerd']) {
    try {
      rmdirSync(path);
    } catch {
      // Not empty (another kubelet's files) or already gone.
    }
  }
}
