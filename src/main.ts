#!/usr/bin/env node
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { parseFlags, usage, type ProviderFlags } from './config/flags.js';
import { readProviderVersion } from './shippedFile.js';

function readFlags(): ProviderFlags {
  try {
    return parseFlags(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${usage()}`);
    process.exit(2);
  }
}

// A Mount storm allocates fast and briefly; V8's default lets the old generation grow by up to 4x its live size
// before collecting. 1.2x keeps the peak ~30 MB lower at no measurable cost per Mount (README, Performance). Read by
// V8 at every collection, so setting it here, before the provider loads, is enough (a V8 without the flag prints a
// warning and goes on).
setFlagsFromString('--heap-growing-percent=20');

/** The jmesPath worker's entry sits beside this one: src/files/jmespathWorker.ts in the sources,
 * dist/src/files/jmespathWorker.js in the bundle (scripts/bundle.mjs) and the image. */
const jmesPathWorker = new URL(`./files/jmespathWorker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

const COMMANDS = `Commands:
  check [--fetch] FILE…  check SecretProviderClasses as a Mount would, without a cluster (check --help)
`;

async function main(): Promise<void> {
  if (process.argv[2] === 'check') {
    // The command's code loads only for it: the provider's start stays as it was.
    const { runCheck } = await import('./cli/check.js');
    process.exitCode = await runCheck(process.argv.slice(3), process, jmesPathWorker);
    return;
  }
  const flags = readFlags();
  if (flags.help) {
    process.stdout.write(`${usage()}\n${COMMANDS}`);
    return;
  }
  if (flags.version) {
    const { name, version } = readProviderVersion();
    process.stdout.write(`${name} ${version}\n`);
    return;
  }
  // The AWS SDK and the Kubernetes client are heavy to load: --help and --version should not wait for them.
  const { createProvider } = await import('./provider.js');
  const provider = createProvider(flags, process.env, { jmesPathWorker });
  const { socketPath, metricsPort } = await provider.start();
  provider.logger.info({ socket: socketPath, metricsPort }, 'provider listening');

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    provider.logger.info({ signal, inFlight: provider.server.inFlightMounts }, 'draining');
    provider
      .close(flags.shutdownGraceMs)
      .then(() => {
        provider.logger.info('stopped');
        process.exit(0);
      })
      .catch((err: unknown) => {
        provider.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`aws-secrets-csi-provider failed to start: ${(err as Error).message ?? String(err)}\n`);
  process.exit(1);
});
