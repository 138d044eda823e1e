import { spawn, type ChildProcess } from 'node:child_process';
import { imageNodeOptions } from './imageCommand.js';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectDriverClient, type DriverClient } from './driverClient.js';

export interface RunningProvider {
  socketPath: string;
  /** http://127.0.0.1:PORT serving /metrics, /healthz and /readyz. */
  metricsUrl: string;
  client: DriverClient;
  process: ChildProcess;
  /** Everything the provider printed so far (JSON log lines and stderr). */
  output(): string;
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartProviderOptions {
  /** Extra flags after --provider-volume and --kubeconfig. */
  args?: string[];
  /** AWS endpoint overrides and the like; the provider gets no AWS credentials from its env. */
  env?: Record<string, string | undefined>;
  kubeconfigPath: string;
  providerVolume?: string;
  /**
   * A built JavaScript entry point (e.g. dist/src/main.js) run with node and the image's node options, as production
   * runs it; default:
   * src/main.ts through tsx.
   */
  entry?: string;
  /** The node binary that runs it; default: the one running this process. */
  node?: string;
  /** Node options of `entry` in place of the image's, as the chart's nodeOptions replace them. */
  nodeOptions?: string[];
}

const ROOT = new URL('../../', import.meta.url).pathname;

/** Starts the real provider process (from source through tsx, or `entry`) and waits until its socket answers Version. */
export async function startProvider(options: StartProviderOptions): Promise<RunningProvider> {
  const providerVolume = options.providerVolume ?? (await mkdtemp(join(tmpdir(), 'provider-')));
  const socketPath = join(providerVolume, 'aws.sock');
  const child = spawn(
    options.node ?? process.execPath,
    [
      ...(options.entry === undefined ? ['--import', 'tsx', join(ROOT, 'src/main.ts')] : [...(options.nodeOptions ?? imageNodeOptions()), options.entry]),
      `--provider-volume=${providerVolume}`,
      `--kubeconfig=${options.kubeconfigPath}`,
      // Several providers run at once in tests: each takes a free port for its metrics and health.
      '--metrics-addr=127.0.0.1:0',
      ...(options.args ?? []),
    ],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        AWS_EC2_METADATA_DISABLED: 'true',
        // The machine runs Node 20 on purpose (the image runs a current LTS): the SDK's reminder is noise here.
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const client = connectDriverClient(socketPath);
  let hasExited = false;
  void exited.then(() => (hasExited = true));
  // grpc-js gives up at once on a Unix socket that does not exist yet, so poll until the provider answers.
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (hasExited) {
      client.close();
      throw new Error(`provider exited before its socket answered:\n${output}`);
    }
    const listening = /"metricsPort"/.test(output);
    if (listening && existsSync(socketPath) && (await client.version().then(() => true, () => false))) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      client.close();
      throw new Error(`provider did not answer Version within 30 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const listening = /"metricsPort":(\d+)/.exec(output);
  if (!listening) throw new Error(`provider answered but never logged its metrics port:\n${output}`);
  return {
    socketPath,
    metricsUrl: `http://127.0.0.1:${listening[1]}`,
    client,
    process: child,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      client.close();
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
