/**
 * S5: process start to socket ready. Spawns the provider, polls its socket every 2 ms, and stops the clock when
 * Version is answered over it (what the driver needs before it can send a Mount).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectDriverClient } from '../harness/driverClient.js';
import { median } from './measure.js';

export interface StartupResult {
  command: string;
  /** ms from spawn to Version answered, one per start. */
  samplesMs: number[];
  medianMs: number;
}

const ROOT = new URL('../../', import.meta.url).pathname;

function accepts(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function startOnce(node: string, nodeArgs: string[], kubeconfigPath: string, awsEndpoint: string, env: Record<string, string>): Promise<number> {
  const volume = mkdtempSync(join(tmpdir(), 'provider-start-'));
  const socketPath = join(volume, 'aws.sock');
  const started = performance.now();
  const child = spawn(
    node,
    [...nodeArgs, `--provider-volume=${volume}`, `--kubeconfig=${kubeconfigPath}`, '--metrics-addr=127.0.0.1:0'],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        AWS_ENDPOINT_URL: awsEndpoint,
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let exited = false;
  child.once('exit', () => (exited = true));
  try {
    const deadline = started + 30_000;
    while (!(existsSync(socketPath) && (await accepts(socketPath)))) {
      if (exited) throw new Error(`the provider exited before its socket was ready:\n${stderr}`);
      if (performance.now() > deadline) throw new Error(`the provider's socket was not ready within 30 s:\n${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const client = connectDriverClient(socketPath);
    try {
      await client.version();
    } finally {
      client.close();
    }
    return performance.now() - started;
  } finally {
    if (!exited) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await gone;
    }
    rmSync(volume, { recursive: true, force: true });
  }
}

export interface StartVariant {
  node: string;
  nodeArgs: string[];
  /** Added to the provider's environment. */
  env?: Record<string, string>;
}

/**
 * `starts` starts of each variant (`node <nodeArgs…>`), one after another and taking turns, so that the machine's
 * drift over the run weighs on each alike; each variant's first start is a warm-up and is not counted.
 */
export async function measureStartups<Name extends string>(
  variants: Record<Name, StartVariant>,
  starts: number,
  kubeconfigPath: string,
  awsEndpoint: string,
): Promise<Record<Name, StartupResult>> {
  const entries = Object.entries(variants) as [Name, StartVariant][];
  const samples = new Map<Name, number[]>(entries.map(([name]) => [name, []]));
  for (let round = 0; round <= starts; round++) {
    for (const [name, { node, nodeArgs, env = {} }] of entries) {
      const ms = await startOnce(node, nodeArgs, kubeconfigPath, awsEndpoint, env);
      if (round > 0) samples.get(name)!.push(Math.round(ms));
    }
  }
  return Object.fromEntries(
    entries.map(([name, { nodeArgs }]) => {
      const samplesMs = samples.get(name)!;
      return [name, { command: `node ${nodeArgs.join(' ')}`, samplesMs, medianMs: median(samplesMs) }];
    }),
  ) as Record<Name, StartupResult>;
}
