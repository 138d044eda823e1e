import { join } from 'node:path';
import { freePort } from './net.js';
import { startPeer, waitReady, type PeerProcess } from './process.js';

export interface RunningMoto {
  url: string;
  process: PeerProcess;
}

export async function startMoto(binary: string, logDir: string): Promise<RunningMoto> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const peer = startPeer('moto', binary, ['-H', '127.0.0.1', '-p', String(port)], join(logDir, 'moto.log'));
  await waitReady(peer, async () => (await fetch(`${url}/`)).ok, 30_000);
  return { url, process: peer };
}
