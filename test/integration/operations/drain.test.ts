import { status } from '@grpc/grpc-js';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDriverClient } from '../../harness/driverClient.js';
import { startFaultProxy, type FaultProxy } from '../../harness/faultProxy.js';
import { createServiceAccount, ensureNamespace, serviceAccountTokens } from '../../harness/kube.js';
import { IRSA_AUDIENCE, ROLE_ANNOTATION } from '../../harness/mountEnvironment.js';
import { usePeers } from '../../harness/peers.js';
import { startProvider, type RunningProvider } from '../../harness/provider.js';
import { mountRequest } from '../../fixtures/mountRequest.js';
import { createSecret } from '../../harness/moto.js';
import { mountFailure } from './support.js';

const REGION = 'eu-north-1';
const peers = usePeers();
const namespace = `ops-drain-${Math.random().toString(36).slice(2, 8)}`;
let proxy: FaultProxy;
let tokens: string;

beforeAll(async () => {
  proxy = await startFaultProxy(peers.motoUrl);
  await ensureNamespace(namespace);
  await createServiceAccount(namespace, 'app', { [ROLE_ANNOTATION]: 'arn:aws:iam::123456789012:role/app' });
  tokens = await serviceAccountTokens(namespace, 'app', [IRSA_AUDIENCE]);
});
afterAll(async () => {
  await proxy?.close();
});

async function drainingProvider(grace: string): Promise<RunningProvider> {
  proxy.clearFaults();
  proxy.clearRecords();
  return startProvider({
    kubeconfigPath: peers.kube.kubeconfigPath,
    args: [`--shutdown-grace=${grace}`, '--mount-timeout=30s'],
    env: { AWS_ENDPOINT_URL: proxy.url, AWS_REGION: REGION },
  });
}

function mount(provider: RunningProvider) {
  return provider.client.mount(
    mountRequest({
      pod: { namespace, name: 'web-0', serviceAccountName: 'app' },
      tokens,
      objects: [{ objectName: 'drain/db', objectType: 'secretsmanager' }],
    }),
  );
}

/** Resolves once the proxy holds a Secrets Manager call: the Mount is then in flight inside the provider. */
async function secretsManagerCallArrived(): Promise<void> {
  for (let i = 0; i < 400 && !proxy.records.some((r) => r.service === 'secretsmanager'); i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  expect(proxy.records.some((r) => r.service === 'secretsmanager')).toBe(true);
}

function exitCode(provider: RunningProvider): Promise<number | null> {
  const child = provider.process;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('graceful drain on SIGTERM', () => {
  it('a Mount in flight finishes with its files; new connections are refused; exit 0 and the socket removed', async () => {
    await createSecret(REGION, 'drain/db', 'drained-value');
    const provider = await drainingProvider('20s');
    proxy.setFault({ service: 'secretsmanager', kind: 'delay', ms: 1500 });

    const inFlight = mount(provider);
    await secretsManagerCallArrived();
    provider.process.kill('SIGTERM');
    const exited = exitCode(provider);
    // The provider logs "draining" in the same tick as it stops listening: a dial sent before that line could still
    // reach the listener while the signal waits for the provider's event loop.
    for (let i = 0; i < 400 && !provider.output().includes('"msg":"draining"'); i++) await new Promise((resolve) => setTimeout(resolve, 25));

    // A driver dialling now finds no provider: the socket no longer accepts connections.
    const late = connectDriverClient(provider.socketPath);
    const lateVersion = await late
      .version()
      .then(() => 'answered', (err: { code: number }) => err.code);
    late.close();
    expect(lateVersion).not.toBe('answered');

    const response = await inFlight;
    expect(response.files.map((f) => [f.path, f.contents.toString()])).toEqual([['drain_db', 'drained-value']]);
    expect(await exited).toBe(0);
    expect(existsSync(provider.socketPath)).toBe(false);
    const draining = provider.output().split('\n').find((line) => line.includes('"msg":"draining"'));
    expect(JSON.parse(draining ?? '{}')).toMatchObject({ signal: 'SIGTERM', inFlight: 1 });
    provider.client.close();
  });

  it('a drain bound shorter than the Mount: the Mount fails with no files, and the process exits 0 before AWS answers', async () => {
    await createSecret(REGION, 'drain/db', 'never-delivered');
    const provider = await drainingProvider('300ms');
    proxy.setFault({ service: 'secretsmanager', kind: 'delay', ms: 8000 });

    const inFlight = mountFailure(mount(provider));
    await secretsManagerCallArrived();
    provider.process.kill('SIGTERM');

    expect(await exitCode(provider)).toBe(0);
    // The delayed call has not been answered by moto yet: the provider did not wait for it.
    const call = proxy.records.find((r) => r.service === 'secretsmanager');
    expect(call?.status).toBeUndefined();
    const error = await inFlight;
    expect([status.CANCELLED, status.UNAVAILABLE]).toContain(error.code);
    expect(existsSync(provider.socketPath)).toBe(false);
    provider.client.close();
  });
});
