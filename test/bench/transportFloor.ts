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

/** How the waiting server runs: the provider's node binary and node options. */
interface ServerRuntime {
  node: string;
  nodeOptions: readonly string[];
}

interface BenchRun extends ServerRuntime {
  options: BenchOptions;
  log: (line: string) => void;
}

export async function measureTransportFloor(world: World, run: BenchRun & { waitMs: number }): Promise<TransportFloor> {
  return withWaitingServer(run, async (client) => {
    const { s2 } = await runScenarios(world, { name: 'reference', client }, run.options, new Set(['s2']), run.log);
    return { ...s2!, waitMs: run.waitMs };
  });
}

/**
 * Storms of Mounts through the load generator's own code before anything is measured, answered at once by the
 * waiting server. The first storm a Node.js process sends runs its storm path cold (not yet compiled, buffers not yet
 * grown) and was 10–30 ms slower for it: that landed in the first storm of whichever provider came first, where the
 * driver's Go client has no such start.
 */
export async function warmLoadGenerator(world: World, run: BenchRun): Promise<void> {
  await withWaitingServer({ ...run, waitMs: 0 }, (client) =>
    runScenarios(world, { name: 'warm-up', client }, { ...run.options, stormRounds: 2 }, new Set(['s2']), run.log),
  );
}

async function withWaitingServer<T>(
  run: ServerRuntime & { waitMs: number },
  use: (client: MountClient) => Promise<T>,
): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-waiting-server-'));
  const answer = benchAnswer(REGION);
  const answerFile = join(dir, 'answer.json');
  writeFileSync(answerFile, JSON.stringify({ ...answer, files: answer.files.map((f) => ({ ...f, contents: f.contents.toString() })) }));
  const socketPath = join(dir, 'waiting.sock');
  const server = startPeer('waiting server', run.node, [...run.nodeOptions, SERVER, socketPath, String(run.waitMs), answerFile], join(dir, 'waiting.log'));
  try {
    await waitReady(server, async () => existsSync(socketPath), 30_000);
    const client = await MountClient.connect(socketPath);
    try {
      return await use(client);
    } finally {
      client.close();
    }
  } finally {
    await stopPeer(server);
    rmSync(dir, { recursive: true, force: true });
  }
}
