import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { usePeers } from './peers.js';
import { freePort } from './start/net.js';
import { startPeer, stopPeer, waitReady } from './start/process.js';

/** Where tinyproxy connects from: a call that reaches the fault proxy from here went through it. */
export const PROXY_OUTGOING_ADDRESS = '127.0.0.3';

export interface Tinyproxy {
  /** http://127.0.0.1:PORT, for HTTP_PROXY / HTTPS_PROXY. */
  url: string;
  /** The targets of the CONNECT requests in its own log, in order (`127.0.0.1:PORT`). */
  connects(): Promise<string[]>;
  close(): Promise<void>;
}

export interface TinyproxyOptions {
  /** Tunnels only to these ports (tinyproxy's ConnectPort), refusing the rest with 403, as egress proxies do. */
  connectPorts?: number[];
}

/** Debian's tinyproxy on loopback: it connects out from PROXY_OUTGOING_ADDRESS and logs every request it gets. */
export async function startTinyproxy(options: TinyproxyOptions = {}): Promise<Tinyproxy> {
  const dir = await mkdtemp(join(tmpdir(), 'tinyproxy-'));
  // It drops root for nobody, who writes the log.
  await chmod(dir, 0o777);
  const port = await freePort();
  const log = join(dir, 'tinyproxy.log');
  const config = [
    'User nobody',
    'Group nogroup',
    `Port ${port}`,
    'Listen 127.0.0.1',
    `Bind ${PROXY_OUTGOING_ADDRESS}`,
    'Timeout 30',
    `LogFile "${log}"`,
    'LogLevel Connect',
    'MaxClients 50',
    'Allow 127.0.0.1',
    ...(options.connectPorts ?? []).map((allowed) => `ConnectPort ${allowed}`),
  ];
  await writeFile(join(dir, 'tinyproxy.conf'), `${config.join('\n')}\n`);
  const peer = startPeer('tinyproxy', usePeers().binaries.tinyproxy, ['-d', '-c', join(dir, 'tinyproxy.conf')], join(dir, 'out.log'));
  await waitReady(peer, () => accepts(port), 10_000);
  return {
    url: `http://127.0.0.1:${port}`,
    connects: async () =>
      [...(await readFile(log, 'utf8')).matchAll(/Request \(file descriptor \d+\): CONNECT (\S+) HTTP/g)].map((m) => m[1]!),
    close: async () => {
      await stopPeer(peer);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.end();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
