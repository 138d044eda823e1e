import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** A socket of the node's processes with a peer outside 127.0.0.0/8 and ::1. */
export interface Egress {
  pid: number;
  command: string;
  protocol: string;
  remote: string;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** pid → parent pid, for every process. */
function parents(): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = read(`/proc/${entry}/stat`);
    // The command is in parentheses and may hold spaces: the fields after its closing one are fixed.
    const ppid = stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[1];
    if (ppid !== undefined) out.set(Number(entry), Number(ppid));
  }
  return out;
}

/**
 * The node's processes: `roots` (kubelet, containerd, the driver), the containerd shims serving `containerdSocket`
 * (their command line names it; they are children of init, not of containerd), and every descendant of those: the
 * containers, the provider's among them.
 */
export function nodeProcesses(roots: number[], containerdSocket: string): number[] {
  const tree = parents();
  const set = new Set(roots);
  for (const pid of tree.keys()) {
    const argv = read(`/proc/${pid}/cmdline`)?.split('\0') ?? [];
    if (argv[0]?.endsWith('containerd-shim-runc-v2') && argv.includes(containerdSocket)) set.add(pid);
  }
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of tree) {
      if (!set.has(pid) && set.has(ppid)) {
        set.add(pid);
        grew = true;
      }
    }
  }
  return [...set];
}

/** /proc/net/* address (hex, kernel byte order) → printable, and whether it is loopback or unset. */
function decode(hex: string): { text: string; local: boolean } {
  const [addr = '', portHex = '0'] = hex.toLowerCase().split(':');
  const port = parseInt(portHex, 16);
  if (addr.length === 8) {
    const bytes = (addr.match(/../g) ?? []).map((b) => parseInt(b, 16)).reverse();
    return { text: `${bytes.join('.')}:${port}`, local: bytes[0] === 127 || bytes.every((b) => b === 0) };
  }
  const words = (addr.match(/.{8}/g) ?? []).map((w) => (w.match(/../g) ?? []).reverse().join(''));
  const full = words.join('');
  const v4 = full.startsWith('00000000000000000000ffff') ? full.slice(24).match(/../g)?.map((b) => parseInt(b, 16)) : undefined;
  const local = /^0{32}$/.test(full) || full === `${'0'.repeat(31)}1` || (v4 !== undefined && (v4[0] === 127 || v4.every((b) => b === 0)));
  return { text: `[${full.match(/.{4}/g)?.join(':')}]:${port}`, local };
}

/** Every socket of `pids` whose remote address is neither loopback nor unset, in this network namespace. */
export function egressOf(pids: number[]): Egress[] {
  const owner = new Map<string, number>();
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
        if (inode) owner.set(inode, pid);
      } catch {
        // Closed meanwhile.
      }
    }
  }
  const found: Egress[] = [];
  for (const protocol of ['tcp', 'tcp6', 'udp', 'udp6']) {
    for (const line of (read(`/proc/net/${protocol}`) ?? '').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const [remote, inode] = [fields[2], fields[9]];
      if (!remote || !inode) continue;
      const pid = owner.get(inode);
      if (pid === undefined) continue;
      const peer = decode(remote);
      if (!peer.local) found.push({ pid, command: read(`/proc/${pid}/comm`)?.trim() ?? '?', protocol, remote: peer.text });
    }
  }
  return found;
}
