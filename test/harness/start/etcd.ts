import { join } from 'node:path';
import { freePort } from './net.js';
import { startPeer, waitReady, type PeerProcess } from './process.js';

export interface RunningEtcd {
  url: string;
  process: PeerProcess;
}

export async function startEtcd(binary: string, runDir: string, logDir: string): Promise<RunningEtcd> {
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const peer = startPeer(
    'etcd',
    binary,
    [
      '--name=peers',
      `--data-dir=${join(runDir, 'etcd')}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=peers=${peerUrl}`,
      // Test data is thrown away after the run: durability only costs time.
      '--unsafe-no-fsync',
      '--log-level=warn',
    ],
    join(logDir, 'etcd.log'),
  );
  await waitReady(peer, async () => (await fetch(`${url}/health`)).ok, 30_000);
  return { url, process: peer };
}
