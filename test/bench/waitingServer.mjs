// The reference for S2 (test/bench/transportFloor.ts): the product's own gRPC server, as built (dist/), whose Mount
// does no work but wait, once per storm, as long as the floor's calls take, then give every pod the same answer.
//   node [the provider's node options] test/bench/waitingServer.mjs SOCKET WAIT_MS ANSWER_JSON
// ANSWER_JSON holds a MountResponse with each file's contents as a string.
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import process from 'node:process';
import { setTimeout } from 'node:timers';
import { FLAG_DEFAULTS } from '../../dist/src/config/flags.js';
import { MAX_STREAMS_PER_CONNECTION, ProviderServer } from '../../dist/src/server/server.js';

const [socketPath, waitMs, answerFile] = process.argv.slice(2);
const answer = JSON.parse(readFileSync(answerFile, 'utf8'));
answer.files = answer.files.map((file) => ({ ...file, contents: Buffer.from(file.contents) }));

let wait;
const server = new ProviderServer({
  version: { version: 'reference', runtimeName: 'waiting-server', runtimeVersion: '0' },
  mount: () =>
    (wait ??= new Promise((resolve) =>
      setTimeout(() => {
        wait = undefined;
        resolve(answer);
      }, Number(waitMs)),
    )),
  // The provider's own admission and connection limits at their defaults, as a storm to it meets them.
  limits: {
    maxConcurrent: FLAG_DEFAULTS.maxConcurrentMounts,
    maxBytes: FLAG_DEFAULTS.maxMountBytes,
    maxRequestBytes: FLAG_DEFAULTS.maxRequestBytes,
    timeoutMs: FLAG_DEFAULTS.mountTimeoutMs,
  },
  connections: { idleMs: FLAG_DEFAULTS.maxConnectionIdleMs, maxStreams: MAX_STREAMS_PER_CONNECTION },
});
await server.listen(socketPath);
process.once('SIGTERM', () => server.close(1000).then(() => process.exit(0)));
