import { beforeEach } from 'vitest';
import { tailFile } from '../logs.js';
import { usePeers } from '../peers.js';

const peers = usePeers();

// A failure on the node is often explained by what kubelet, containerd or the driver said at the time.
beforeEach(({ onTestFailed }) => {
  onTestFailed(() => {
    for (const [name, file] of Object.entries(peers.logs)) {
      console.error(`----- last lines of ${name} (${file}) -----\n${tailFile(file, 30)}`);
    }
  });
});
