import { rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { usePeers } from '../../harness/peers.js';
import { startProvider, type RunningProvider } from '../../harness/provider.js';

const peers = usePeers();

async function probe(provider: RunningProvider, path: '/readyz' | '/healthz'): Promise<number> {
  return (await fetch(`${provider.metricsUrl}${path}`)).status;
}

async function running(): Promise<RunningProvider> {
  const provider = await startProvider({ kubeconfigPath: peers.kube.kubeconfigPath });
  onTestFinished(async () => {
    await provider.stop();
  });
  expect(await probe(provider, '/readyz')).toBe(200);
  return provider;
}

describe('/readyz follows the socket the driver dials; /healthz the process', () => {
  it('the socket file deleted under a running provider → /readyz 503, /healthz 200', async () => {
    const provider = await running();

    await rm(provider.socketPath);

    expect(await probe(provider, '/readyz')).toBe(503);
    expect(await probe(provider, '/healthz')).toBe(200);
  });

  it('the socket path taken over by another listener → /readyz 503, /healthz 200', async () => {
    const provider = await running();

    await rm(provider.socketPath);
    const impostor: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => impostor.listen(provider.socketPath, resolve));
    onTestFinished(() => new Promise<void>((resolve) => impostor.close(() => resolve())));

    expect(await probe(provider, '/readyz')).toBe(503);
    expect(await probe(provider, '/healthz')).toBe(200);
  });
});
