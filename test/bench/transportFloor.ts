/**
 * S2's second floor: the same storms, from the same client, answered by the product's own gRPC server on the same
 * Node.js and node options, whose Mount does nothing but wait once per storm for the floor's chain time and then give
 * every pod one shared answer (test/bench/waitingServer.mjs). What it measures above that wait is what HTTP/2 and
 * grpc-js cost to take in and answer 100 calls on this machine, at both ends: no provider on this stack goes below
 * it, so the provider's own pipeline is what its p99 has above this one.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPeer, stopPeer, waitReady } from '../harness/start/process.js';
import { MountClient } from './mountClient.js';
import { runScenarios, type BenchOptions, type StormResult } from './scenarios.js';
import { benchAnswer } from './spc.js';
import { REGION, type World } from './world.js';

const SERVER = new URL('./waitingServer.mjs', import.meta.url).pathname;

export interface TransportFloor extends StormResult {
  /** The one wait each storm shares: S2's floor (ServiceAccount GET, STS, fetch), ms. */
  waitMs: number;
}

export async function measureTransportFloor(
  world: World,
  run: { node: string; nodeOptions: readonly string[]; waitMs: number; options: BenchOptions; log: (line: string) => void },
): Promise<TransportFloor> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-reference-'));
  const answer = benchAnswer(REGION);
  const answerFile = join(dir, 'answer.json');
  writeFileSync(answerFile, JSON.stringify({ ...answer, files: answer.files.map((f) => ({ ...f, contents: f.contents.toString() })) }));
  const socketPath = join(dir, 'reference.sock');
  const server = startPeer('reference', run.node, [...run.nodeOptions, SERVER, socketPath, String(run.waitMs), answerFile], join(dir, 'reference.log'));
  try {
    await waitReady(server, async () => existsSync(socketPath), 30_000);
    const client = await MountClient.connect(socketPath);
    try {
      const { s2 } = await runScenarios(world, { name: 'reference', client }, run.options, new Set(['s2']), run.log);
      return { ...s2!, waitMs: run.waitMs };
    } finally {
      client.close();
    }
  } finally {
    await stopPeer(server);
    rmSync(dir, { recursive: true, force: true });
  }
}
