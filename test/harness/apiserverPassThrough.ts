/**
 * A TCP pass-through on 127.0.0.1 in front of the real kube-apiserver that counts the connections it accepts; TLS
 * stays end to end (the serving certificate names 127.0.0.1, so the pass-through's address verifies against the
 * cluster CA). How the tests see whether the provider's Kubernetes client keeps its connections open.
 */
import { writeFile } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { stringify } from 'yaml';
import { usePeers } from './peers.js';

export interface PassThrough {
  server: string;
  connections(): number;
  /** Ends every connection, as the apiserver does to one idle for 90 s. */
  drop(): void;
  close(): Promise<void>;
}

/** Pipes every connection to the apiserver's port, byte for byte. */
export async function startPassThrough(apiserver: string): Promise<PassThrough> {
  const target = new URL(apiserver);
  const open = new Set<Socket>();
  let connections = 0;
  const server = createServer((client) => {
    connections += 1;
    const upstream = connect(Number(target.port), target.hostname);
    for (const [socket, other] of [[client, upstream], [upstream, client]] as const) {
      open.add(socket);
      socket.on('error', () => other.destroy());
      socket.on('close', () => {
        open.delete(socket);
        other.destroy();
      });
      socket.pipe(other);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('the pass-through has no port');
  return {
    server: `https://127.0.0.1:${address.port}`,
    connections: () => connections,
    drop: () => {
      for (const socket of open) socket.destroy();
    },
    close: () => {
      for (const socket of open) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** The admin's kubeconfig, pointed at the pass-through, optionally with a client certificate. */
export async function writeKubeconfig(path: string, server: string, client?: { cert: string; key: string }): Promise<void> {
  const { kube } = usePeers();
  const user = { token: kube.token, ...(client && { 'client-certificate': client.cert, 'client-key': client.key }) };
  await writeFile(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'peers', cluster: { server, 'certificate-authority': kube.caFile } }],
      users: [{ name: 'admin', user }],
      contexts: [{ name: 'peers', context: { cluster: 'peers', user: 'admin' } }],
      'current-context': 'peers',
    }),
    { mode: 0o600 },
  );
}
