import type * as grpc from '@grpc/grpc-js';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { expect } from 'vitest';
import { parse, stringify } from 'yaml';
import type { MountResponseMessage } from '../../../src/server/proto.js';
import { createSecret, putParameter } from '../../harness/moto.js';
import type { MountEnvironment, PodIdentityFixture } from '../../harness/mountEnvironment.js';
import { usePeers } from '../../harness/peers.js';

/**
 * Awaits a Mount that must fail and returns the gRPC error. A failed Mount carries no MountResponse at all, so
 * "no files for the failed one" is the promise rejecting rather than resolving with a partial answer.
 */
export async function mountFailure(mount: Promise<MountResponseMessage>): Promise<grpc.ServiceError> {
  const outcome = await mount.then(
    (response) => ({ response }),
    (error: grpc.ServiceError) => ({ error }),
  );
  if ('response' in outcome) {
    const files = outcome.response.files.map((f) => f.path).join(', ');
    throw new Error(`expected the Mount to fail, it returned files [${files}]`);
  }
  return outcome.error;
}

/** Our stable code, from the trailer the server sets beside the status. */
export function providerCode(error: grpc.ServiceError): string | undefined {
  return error.metadata?.get('x-provider-error-code')[0]?.toString();
}

/** A fresh secret in `region`, mounted for `who`: the proof that the provider still serves after a fault. */
export async function expectGoodMount(
  env: MountEnvironment,
  who: PodIdentityFixture,
  region: string,
  extraParameters: Record<string, string> = {},
): Promise<void> {
  const name = `healthy-${Math.random().toString(36).slice(2, 8)}`;
  await createSecret(region, name, `value-of-${name}`);
  const response = await env.mount(who, {
    parameters: { region, ...extraParameters },
    objects: [{ objectName: name, objectType: 'secretsmanager' }],
  });
  expect(response.files.map((f) => [f.path, f.contents.toString()])).toEqual([[name, `value-of-${name}`]]);
}

/** Seeds the same secret and parameter names with region-specific values. */
export async function seedRegions(regions: string[]): Promise<Record<string, { secretVersion: string; parameterVersion: number }>> {
  const seeded: Record<string, { secretVersion: string; parameterVersion: number }> = {};
  for (const region of regions) {
    const secret = await createSecret(region, 'ops/db', `db-in-${region}`);
    const parameterVersion = await putParameter(region, '/ops/flag', `flag-in-${region}`);
    seeded[region] = { secretVersion: secret.versionId, parameterVersion };
  }
  return seeded;
}

export const SEEDED_OBJECTS = [
  { objectName: 'ops/db', objectType: 'secretsmanager', objectAlias: 'db' },
  { objectName: '/ops/flag', objectType: 'ssmparameter', objectAlias: 'flag' },
];

/**
 * A TCP pass-through to the real kube-apiserver on a loopback port of its own (TLS passes through untouched, and
 * the apiserver's certificate names 127.0.0.1). `down()` closes the port and cuts every open connection, so the
 * provider behind it meets a closed loopback port, while the shared apiserver keeps serving every other test.
 */
export interface KubeDoor {
  kubeconfigPath: string;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function openKubeDoor(dir: string): Promise<KubeDoor> {
  const peers = usePeers();
  const target = new URL(peers.kube.server);
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const listen = async () => {
    server = createServer((client) => {
      const upstream = connect(Number(target.port), target.hostname);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.once('close', () => sockets.delete(s));
        s.on('error', () => [client, upstream].forEach((x) => x.destroy()));
      }
      client.pipe(upstream).pipe(client);
    });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as { port: number }).port;
  };
  const down = async () => {
    const closing = server;
    server = undefined;
    if (!closing) return;
    const closed = new Promise((resolve) => closing.close(resolve));
    for (const s of sockets) s.destroy();
    await closed;
  };
  await listen();
  const config = parse(await readFile(peers.kube.kubeconfigPath, 'utf8')) as {
    clusters: { cluster: { server: string } }[];
  };
  for (const entry of config.clusters) entry.cluster.server = `https://127.0.0.1:${port}`;
  const kubeconfigPath = join(dir, 'kubeconfig-through-door');
  await writeFile(kubeconfigPath, stringify(config), { mode: 0o600 });
  return { kubeconfigPath, down, up: listen, close: down };
}

/** The value of one sample of the Prometheus text, 0 when the series is absent. */
export function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

export async function metricsText(metricsUrl: string): Promise<string> {
  const res = await fetch(`${metricsUrl}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}
