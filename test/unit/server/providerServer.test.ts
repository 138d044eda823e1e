/**
 * The gRPC server in process: the composition root's pipeline behind ProviderServer on a Unix socket of a temporary
 * directory, called as the driver calls it (test/harness/driverClient.ts). The edges are answered in the process
 * (test/unit/mount/inProcessEdges.ts); the provider as a process is proven by test/integration/server.test.ts.
 */
import { status, type ServiceError } from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IRSA_AUDIENCE } from '../../../src/auth/irsa.js';
import { parseFlags } from '../../../src/config/flags.js';
import { createMountCore } from '../../../src/mount/core.js';
import { createMountHandler } from '../../../src/mount/handler.js';
import { createLogger } from '../../../src/observability/logger.js';
import { ProviderMetrics } from '../../../src/observability/metrics.js';
import type { MountRequestMessage } from '../../../src/server/proto.js';
import { ProviderServer } from '../../../src/server/server.js';
import { connectDriverClient, type DriverClient } from '../../harness/driverClient.js';
import { InProcessAws, InProcessCluster } from '../mount/inProcessEdges.js';

const flags = parseFlags(['--max-request-size=64Ki']);
const aws = new InProcessAws();
const cluster = new InProcessCluster();
const metrics = new ProviderMetrics();
const core = createMountCore(flags, {
  coreApi: () => Promise.resolve(cluster.coreApi),
  awsRequestHandler: aws.handler(),
  jmesPathWorker: new URL('../../../src/files/jmespathWorker.ts', import.meta.url),
  providerRegion: 'us-east-1',
  metrics,
});
const server = new ProviderServer({
  mount: createMountHandler(core.mount, { timeoutMs: flags.mountTimeoutMs, logger: createLogger('silent'), metrics }),
  version: { version: 'v1alpha1', runtimeName: 'aws-secrets-csi-provider', runtimeVersion: 'test' },
  limits: {
    maxConcurrent: flags.maxConcurrentMounts,
    maxBytes: flags.maxMountBytes,
    maxRequestBytes: flags.maxRequestBytes,
    timeoutMs: flags.mountTimeoutMs,
  },
  connections: { idleMs: flags.maxConnectionIdleMs, maxStreams: 16 },
});
const dir = mkdtempSync(join(tmpdir(), 'provider-server-'));
let driver: DriverClient;

beforeAll(async () => {
  cluster.serviceAccounts.set('shop/web', { roleArn: 'arn:aws:iam::111122223333:role/web' });
  aws.putSecret('us-east-1', 'db', 's3cret');
  await server.listen(join(dir, 'aws.sock'));
  driver = connectDriverClient(join(dir, 'aws.sock'));
});

afterAll(async () => {
  driver.close();
  await server.close(1000);
  await core.close();
  rmSync(dir, { recursive: true, force: true });
});

function request(objects: string, extra: Record<string, string> = {}): MountRequestMessage {
  const token = cluster.token('shop', 'web', IRSA_AUDIENCE);
  return {
    attributes: JSON.stringify({
      'csi.storage.k8s.io/pod.name': 'web-0',
      'csi.storage.k8s.io/pod.namespace': 'shop',
      'csi.storage.k8s.io/serviceAccount.name': 'web',
      'csi.storage.k8s.io/serviceAccount.tokens': JSON.stringify({ [IRSA_AUDIENCE]: { token } }),
      objects,
      ...extra,
    }),
    secrets: 'null',
    targetPath: '/var/lib/kubelet/pods/x/volumes/kubernetes.io~csi/secrets/mount',
    permission: '420',
    currentObjectVersion: [],
  };
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('the call succeeded');
    },
    (err: unknown) => err as ServiceError,
  );

describe('ProviderServer with the Mount pipeline, over its socket', () => {
  it('Version answers the runtime', async () => {
    await expect(driver.version()).resolves.toMatchObject({ version: 'v1alpha1', runtimeName: 'aws-secrets-csi-provider' });
  });

  it('a Mount answers its files and versions', async () => {
    const response = await driver.mount(request('- objectName: db\n  objectType: secretsmanager\n'));
    expect(response.files.map((f) => [f.path, Buffer.from(f.contents).toString()])).toEqual([['db', 's3cret']]);
    expect(response.objectVersion.map((v) => v.id)).toEqual(['db']);
  });

  it('a failed Mount is a gRPC error whose message starts with its code, and no files', async () => {
    const error = await failure(driver.mount(request('- objectName: missing\n  objectType: secretsmanager\n')));
    expect(error.code).toBe(status.NOT_FOUND);
    expect(error.details).toMatch(/^ObjectNotFound: /);
  });

  it('a request over --max-request-size is refused before it is read', async () => {
    const error = await failure(driver.mount(request('- objectName: db\n  objectType: secretsmanager\n', { padding: 'x'.repeat(70_000) })));
    expect(error.code).toBe(status.RESOURCE_EXHAUSTED);
  });

  it('every Mount is counted by result and code', async () => {
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/mounts_total\{result="ok",code=""\} [1-9]/);
    expect(text).toMatch(/mounts_total\{result="error",code="ObjectNotFound"\} [1-9]/);
  });
});
