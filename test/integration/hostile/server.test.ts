/**
 * Hostile input against the server's own budgets (issue 22, repros 6-10): the built bundle on the image's Node.js,
 * moto behind the fault proxy, the real API server. What one pod's SecretProviderClass or one client of the socket
 * sends must not exhaust the node's provider, nor fail silently.
 */
import { execFile } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { status, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isKnownRegion } from '../../../src/config/regions.js';
import { ERROR_CODE_METADATA } from '../../../src/server/status.js';
import { mountRequest } from '../../fixtures/mountRequest.js';
import { startFaultProxy, type FaultProxy } from '../../harness/faultProxy.js';
import {
  createNode,
  createPod,
  createServiceAccount,
  ensureNamespace,
  serviceAccountTokens,
} from '../../harness/kube.js';
import { createSecret } from '../../harness/moto.js';
import { usePeers } from '../../harness/peers.js';
import { chartMemoryLimit, peakRssBytes } from '../../harness/memory.js';
import { startProvider, type RunningProvider } from '../../harness/provider.js';
import { IRSA_AUDIENCE, POD_IDENTITY_AUDIENCE, ROLE_ANNOTATION } from '../../fixtures/identity.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const BUNDLE = join(ROOT, 'dist/src/main.js');
const REGION = 'eu-west-1';
const NODE_REGION = 'ap-northeast-2';
const IDLE = '1s';

const peers = usePeers();
const namespace = `hostile-server-${Date.now().toString(36)}`;
let proxy: FaultProxy;
let tokens: string;

/** The provider as the image runs it: the bundle this checkout builds, on the image's Node.js and options. */
function startBundle(args: string[], env: Record<string, string> = {}): Promise<RunningProvider> {
  return startProvider({
    kubeconfigPath: peers.kube.kubeconfigPath,
    entry: BUNDLE,
    node: peers.binaries.imageNode,
    args,
    env: { AWS_ENDPOINT_URL: proxy.url, ...env },
  });
}

async function metricsText(provider: RunningProvider): Promise<string> {
  const res = await fetch(`${provider.metricsUrl}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

/** The value of one series, e.g. sample(text, 'aws_provider_mounts_total{result="ok",code=""}'). */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

/** Every series of the provider's own metrics, by its name and labels. */
function providerSeries(text: string): Set<string> {
  return new Set(text.split('\n').filter((l) => l.startsWith('aws_provider_')).map((l) => l.slice(0, l.lastIndexOf(' '))));
}

function failure(err: unknown): ServiceError {
  expect(err).toHaveProperty('code');
  return err as ServiceError;
}

const pod = (name: string, uid = `00000000-0000-4000-8000-${name.padStart(12, '0').slice(-12)}`) => ({
  namespace,
  name,
  uid,
  serviceAccountName: 'app',
});

beforeAll(async () => {
  // The bundle of this checkout, built as the image's build stage builds it.
  await promisify(execFile)('npm', ['run', 'build'], { cwd: ROOT });
  proxy = await startFaultProxy(peers.motoUrl);
  await ensureNamespace(namespace);
  await createServiceAccount(namespace, 'app', { [ROLE_ANNOTATION]: 'arn:aws:iam::123456789012:role/hostile' });
  tokens = await serviceAccountTokens(namespace, 'app', [IRSA_AUDIENCE, POD_IDENTITY_AUDIENCE]);
}, 300_000);

afterAll(async () => {
  await proxy?.close();
});

describe('a provider under hostile input', () => {
  let provider: RunningProvider;

  beforeAll(async () => {
    // No AWS_REGION: a Mount without a region parameter asks the API server for its pod's node.
    provider = await startBundle([`--max-connection-idle=${IDLE}`, '--qps=2', '--burst=1']);
  });
  afterAll(async () => {
    await provider?.stop();
  });

  it('fails an answer over the driver\'s 4 MiB as InvalidSecretProviderClass naming the largest files, counted as an error', async () => {
    // AWS's largest secret, 64 KiB, under 100 aliases: 6.5 MB encoded, which the driver would refuse naming nothing.
    const value = 'v'.repeat(65_536);
    await createSecret(REGION, 'big', value);
    const objects = Array.from({ length: 100 }, (_, i) => ({ objectName: 'big', objectType: 'secretsmanager', objectAlias: `alias-${i}` }));
    const before = await metricsText(provider);
    const err = failure(
      await provider.client
        .mount(mountRequest({ pod: pod('big-answer'), parameters: { region: REGION }, objects, tokens }))
        .then(() => undefined, (e: unknown) => e),
    );
    expect(err.code, err.details).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toMatch(/^InvalidSecretProviderClass: the Mount's 100 files come to [\d,]+ bytes encoded, over the 4,194,304 bytes/);
    expect(err.details).toContain('--max-answer-size');
    expect(err.details).toContain('"alias-0" (65,536 bytes from objects[0] "big")');
    expect(err.details).not.toContain('vvvv');
    const after = await metricsText(provider);
    const delta = (series: string) => sample(after, series) - sample(before, series);
    expect(delta('aws_provider_mounts_total{result="error",code="InvalidSecretProviderClass"}')).toBe(1);
    expect(delta('aws_provider_mounts_total{result="ok",code=""}')).toBe(0);
    expect(provider.output()).not.toContain('vvvv');
  });

  it('refuses more objects than --max-objects before any AWS call', async () => {
    const objects = Array.from({ length: 257 }, (_, i) => ({ objectName: `many-${i}`, objectType: 'secretsmanager' }));
    proxy.clearRecords();
    const err = failure(
      await provider.client
        .mount(mountRequest({ pod: pod('many-objects'), parameters: { region: REGION }, objects, tokens }))
        .then(() => undefined, (e: unknown) => e),
    );
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.details).toBe(
      'InvalidSecretProviderClass: objects lists 257 objects, more than the 256 one SecretProviderClass may mount ' +
        '(--max-objects). Split them across SecretProviderClasses and volumes.',
    );
    expect(proxy.records).toEqual([]);
  });

  it('adds no metric series for 3,000 Mounts naming made-up regions, and says the region is unknown', async () => {
    await createSecret(REGION, 'anywhere', 'value');
    const request = (i: number) =>
      mountRequest({
        pod: pod(`made-up-${i}`),
        parameters: { region: `zz-${i}`, failoverRegion: `zz-${i + 1}` },
        objects: [{ objectName: 'anywhere', objectType: 'secretsmanager' }],
        tokens,
      });
    const before = await metricsText(provider);
    const details = new Set<string>();
    for (let batch = 0; batch < 3000; batch += 100) {
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) => provider.client.mount(request(batch + i)).then(() => 'answered', (e: ServiceError) => e)),
      );
      for (const result of results) details.add(typeof result === 'string' ? result : `${status[result.code]} ${result.details.replace(/zz-\d+/g, 'zz-N')}`);
    }
    expect([...details]).toEqual([
      'INVALID_ARGUMENT InvalidSecretProviderClass: region "zz-N" is not an AWS region known to this provider (its AWS SDK\'s partition data), so no AWS endpoint would answer for it. Check the spelling (e.g. us-east-1, eu-west-1); a region launched after this provider version needs a newer provider.',
    ]);
    const after = await metricsText(provider);
    const added = [...providerSeries(after)].filter((series) => !providerSeries(before).has(series));
    // Regions in labels are ones the SDK lists, or "other": never the names Mounts made up.
    const regions = [...after.matchAll(/(?:region|failover_region)="([^"]*)"/g)].map((m) => m[1]!);
    expect(regions.filter((region) => region !== '' && region !== 'other' && !isKnownRegion(region))).toEqual([]);
    expect(added.length, added.join('\n')).toBeLessThanOrEqual(20);
    // Refused before any call: on a provider that calls AWS for each, this takes minutes.
  }, 300_000);

  it('reads a pod\'s node once, and serves another namespace\'s lookup in turn while one namespace floods the API limit', async () => {
    const node = `hostile-node-${Date.now().toString(36)}`;
    await createNode(node, { 'topology.kubernetes.io/region': NODE_REGION });
    const noisy = Array.from({ length: 8 }, (_, i) => `noisy-${i}`);
    for (const name of [...noisy, 'rotating']) await createPod(namespace, name, { serviceAccountName: 'app', nodeName: node });
    const quietNamespace = `${namespace}-quiet`;
    await ensureNamespace(quietNamespace);
    await createPod(quietNamespace, 'quiet', { nodeName: node });
    // No region parameter and no AWS_REGION: the region is the node's label. No tokens: each Mount stops at its
    // identity, after the lookups this test is about.
    const mount = (who: { namespace: string; name: string; uid?: string }) =>
      provider.client
        .mount(mountRequest({ pod: { ...who, serviceAccountName: 'app' }, objects: [{ objectName: 'x', objectType: 'secretsmanager' }] }))
        .then(() => 'answered', (e: ServiceError) => e.details);

    const before = await metricsText(provider);
    for (let i = 0; i < 5; i++) expect(await mount(pod('rotating', 'uid-rotating'))).toMatch(/^MissingServiceAccountToken/);
    const afterRotations = await metricsText(provider);
    const delta = (series: string) => sample(afterRotations, series) - sample(before, series);
    expect(delta('aws_provider_kubernetes_api_calls_total{resource="pods",outcome="ok"}')).toBe(1);
    expect(delta('aws_provider_cache_requests_total{cache="pod",result="hit"}')).toBe(4);

    // --qps=2 --burst=1: eight uncached lookups of one namespace queue up, then one of another namespace arrives.
    const finished: string[] = [];
    const flood = noisy.map((name) => mount(pod(name)).then(() => finished.push(name)));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const quiet = mount({ namespace: quietNamespace, name: 'quiet', uid: 'uid-quiet' }).then((details) => {
      finished.push('quiet');
      return details;
    });
    await Promise.all([...flood, quiet]);
    // Served in turn, the quiet namespace's lookup is not the last one: at least half of the flood finishes after it.
    expect(finished.indexOf('quiet'), finished.join(' ')).toBeLessThanOrEqual(4);
  });

  it('closes connections that stay idle, sent nothing or stopped after the HTTP/2 preface, and the driver dials again', async () => {
    const open = (preface: boolean) =>
      new Promise<Socket>((resolve, reject) => {
        const socket = connect(provider.socketPath, () => {
          if (preface) socket.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]));
          resolve(socket);
        });
        socket.on('error', reject);
      });
    const sockets = await Promise.all(Array.from({ length: 300 }, (_, i) => open(i % 2 === 0)));
    // Each reads what the server sends (its SETTINGS, then a GOAWAY), so the end of the connection is seen.
    const closed = sockets.map((socket) => new Promise<boolean>((resolve) => socket.on('close', () => resolve(true)).resume()));
    // --max-connection-idle=1s: a generous bound, so a slow machine does not fail this; the provider never closed them.
    const bound = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 20_000));
    const results = await Promise.all(closed.map((c) => Promise.race([c, bound])));
    for (const socket of sockets) socket.destroy();
    expect(results.filter((wasClosed) => !wasClosed).length).toBe(0);
    // The driver's own connection was idle as long: its next call dials again and is answered.
    expect((await provider.client.version()).runtimeName).toBe('aws-secrets-csi-provider');
  });
});

describe('Mounts waiting for their turn', () => {
  let provider: RunningProvider;

  beforeAll(async () => {
    provider = await startBundle(['--max-concurrent-mounts=1', '--mount-timeout=4s'], { AWS_REGION: REGION });
  });
  afterAll(async () => {
    await provider?.stop();
  });

  it('spend their deadline while they wait, and leave the queue when the driver gives up', async () => {
    await createSecret(REGION, 'slow', 'slow-value');
    proxy.setFault({ service: 'secretsmanager', kind: 'delay', ms: 3000 });
    try {
      const request = (name: string) => mountRequest({ pod: pod(name), objects: [{ objectName: 'slow', objectType: 'secretsmanager' }], tokens });
      const first = provider.client.mount(request('first'));
      await new Promise((resolve) => setTimeout(resolve, 100));
      // The driver gives up on this one while it waits: it leaves the queue and holds no turn.
      const abandoned = provider.client.mount(request('abandoned'), 500).then(() => undefined, (e: ServiceError) => e);
      await new Promise((resolve) => setTimeout(resolve, 100));
      // Its turn comes when the first is answered (after the 3 s delay), with 1 s of its 4 s deadline left: its own
      // 3 s fetch cannot fit. Had its deadline started with its turn, it would have been answered.
      const second = provider.client.mount(request('second')).then(() => undefined, (e: ServiceError) => e);
      expect((await abandoned)?.code).toBe(status.DEADLINE_EXCEEDED);
      expect((await first).files.map((f) => f.contents.toString())).toEqual(['slow-value']);
      const late = await second;
      expect(late?.code).toBe(status.DEADLINE_EXCEEDED);
      expect(late?.details).toContain('did not finish within 4000 ms (--mount-timeout)');
      const text = await metricsText(provider);
      expect(sample(text, 'aws_provider_mounts_queued')).toBe(0);
      expect(sample(text, 'aws_provider_mount_queue_wait_seconds_count')).toBe(2);
    } finally {
      proxy.clearFaults();
    }
    // Nothing was left holding a turn.
    const after = await provider.client.mount(mountRequest({ pod: pod('after'), objects: [{ objectName: 'slow', objectType: 'secretsmanager' }], tokens }));
    expect(after.files).toHaveLength(1);
  });
});

describe("a provider's memory under a storm of large requests", () => {
  let provider: RunningProvider;

  beforeAll(async () => {
    provider = await startBundle([], { AWS_REGION: REGION });
  });
  afterAll(async () => {
    await provider?.stop();
  });

  it("answers 1,000 concurrent Mounts of 1 MB attributes within the chart's 384 Mi", async () => {
    await createSecret(REGION, 'storm', 'storm-value');
    // One request object for every call: the test's own memory is not what is measured.
    const request = mountRequest({
      pod: pod('storm'),
      parameters: { padding: 'p'.repeat(1_000_000) },
      objects: [{ objectName: 'storm', objectType: 'secretsmanager' }],
      tokens,
    });
    // Errors are fine (a Mount that waited past --mount-timeout for its turn fails): what counts is that each call got
    // the provider's own answer, not a dropped connection or the client's deadline.
    const outcomes = await Promise.all(
      Array.from({ length: 1000 }, () =>
        provider.client.mount(request, 240_000).then(
          () => 'ok',
          (e: ServiceError) => `${status[e.code]} ${String(e.metadata?.get(ERROR_CODE_METADATA)[0] ?? 'not from the provider')}`,
        ),
      ),
    );
    const counts = outcomes.reduce<Record<string, number>>((acc, o) => ({ ...acc, [o]: (acc[o] ?? 0) + 1 }), {});
    expect(Object.keys(counts).filter((o) => o !== 'ok' && o.endsWith('not from the provider')), JSON.stringify(counts)).toEqual([]);
    expect(counts.ok ?? 0, JSON.stringify(counts)).toBeGreaterThan(0);
    const peak = peakRssBytes(provider.process.pid!);
    expect(peak, `peak RSS ${Math.round(peak / 2 ** 20)} MiB`).toBeLessThanOrEqual(chartMemoryLimit());
    const text = await metricsText(provider);
    // Every Mount waited for its turn (or ran out of time waiting), and none is left waiting.
    expect(sample(text, 'aws_provider_mount_queue_wait_seconds_count') + (counts['DEADLINE_EXCEEDED DeadlineExceeded'] ?? 0)).toBeGreaterThanOrEqual(1000);
    expect(sample(text, 'aws_provider_mounts_queued')).toBe(0);
  }, 300_000);
});
