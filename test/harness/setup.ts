import { beforeEach } from 'vitest';
import { tailFile } from './logs.js';
import { usePeers } from './peers.js';

const peers = usePeers();

beforeEach(async ({ onTestFailed }) => {
  // A failure is often explained by what a peer said at the time: show it next to the failure.
  onTestFailed(() => {
    for (const [name, file] of Object.entries(peers.logs)) {
      console.error(`----- last lines of ${name} (${file}) -----\n${tailFile(file, 40)}`);
    }
  });
  const res = await fetch(`${peers.motoUrl}/moto-api/reset`, { method: 'POST' });
  if (!res.ok) throw new Error(`moto reset answered HTTP ${res.status}: ${await res.text()}`);
});
