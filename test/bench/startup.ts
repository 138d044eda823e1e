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

async function startOnce(node: string, nodeArgs: string[], kubeconfigPath: string, awsEndpoint: string): Promise<number> {
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

/** `starts` starts of `node <nodeArgs…>`, one after another; the first one is a warm-up and is not counted. */
export async function measureStartup(
  node: string,
  nodeArgs: string[],
  starts: number,
  kubeconfigPath: string,
  awsEndpoint: string,
): Promise<StartupResult> {
  await startOnce(node, nodeArgs, kubeconfigPath, awsEndpoint);
  const samplesMs: number[] = [];
  for (let i = 0; i < starts; i++) samplesMs.push(Math.round(await startOnce(node, nodeArgs, kubeconfigPath, awsEndpoint)));
  return { command: `node ${nodeArgs.join(' ')}`, samplesMs, medianMs: median(samplesMs) };
}
