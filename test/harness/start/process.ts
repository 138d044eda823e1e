import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { tailFile } from '../logs.js';

export interface PeerProcess {
  readonly name: string;
  readonly logFile: string;
  readonly child: ChildProcess;
  /** Settles when the process has exited, with its exit code or signal. */
  readonly exited: Promise<string>;
}

const running = new Set<PeerProcess>();

// Vitest answers SIGINT/SIGTERM with process.exit() and skips globalSetup teardowns: 'exit' still runs, and
// only synchronous work is possible there.
process.once('exit', () => {
  for (const peer of running) signalGroup(peer, 'SIGKILL');
});

/**
 * Starts a peer in its own process group with stdout and stderr appended to logFile.
 * setpriv's parent-death signal kills the peer even when this process is SIGKILLed, so no run leaves orphans.
 */
export function startPeer(name: string, command: string, args: string[], logFile: string): PeerProcess {
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn('setpriv', ['--pdeathsig', 'SIGKILL', '--', command, ...args], {
      stdio: ['ignore', fd, fd],
      detached: true,
    });
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ?? `exit code ${code}`));
    child.once('error', (err) => resolve(`spawn error: ${err.message}`));
  });
  const peer: PeerProcess = { name, logFile, child, exited };
  running.add(peer);
  void exited.then(() => running.delete(peer));
  return peer;
}

/** Polls probe until it answers true; a peer that exits or stays unready throws with the tail of its log. */
export async function waitReady(peer: PeerProcess, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitedWith: string | undefined;
  void peer.exited.then((how) => (exitedWith = how));
  let lastError = '';
  while (Date.now() < deadline) {
    if (exitedWith !== undefined) throw peerError(peer, `exited before it was ready (${exitedWith})`);
    try {
      if (await probe()) return;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    await sleep(150);
  }
  throw peerError(peer, `not ready after ${timeoutMs} ms${lastError ? ` (last probe error: ${lastError})` : ''}`);
}

/** Stops every peer still running, including any that never became ready, the last started first. */
export async function stopAllPeers(): Promise<void> {
  for (const peer of [...running].reverse()) await stopPeer(peer);
}

/** SIGTERM to the peer's group, SIGKILL after graceMs. */
export async function stopPeer(peer: PeerProcess, graceMs = 5_000): Promise<void> {
  if (!running.has(peer)) return;
  signalGroup(peer, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(peer, 'SIGKILL'), graceMs);
  await peer.exited;
  clearTimeout(timer);
}

export function peerError(peer: PeerProcess, what: string): Error {
  return new Error(`peer ${peer.name} ${what}; last lines of ${peer.logFile}:\n${tailFile(peer.logFile, 40)}`);
}

function signalGroup(peer: PeerProcess, signal: NodeJS.Signals): void {
  if (peer.child.pid === undefined) return;
  try {
    process.kill(-peer.child.pid, signal);
  } catch {
    // The group is already gone.
  }
}
