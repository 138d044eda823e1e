import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { tailFile } from '../logs.js';
import { usePeers } from '../peers.js';
import { egressOf, nodeProcesses, type Egress } from './egress.js';
import { useNode } from './info.js';

const peers = usePeers();
const node = useNode();

// A failure on the node is often explained by what kubelet, containerd or the driver said at the time.
beforeEach(({ onTestFailed }) => {
  onTestFailed(() => {
    for (const [name, file] of Object.entries(peers.logs)) {
      console.error(`----- last lines of ${name} (${file}) -----\n${tailFile(file, 30)}`);
    }
  });
});

// Nothing leaves loopback: while each file runs, the sockets of the node's processes (kubelet, containerd, its
// shims, the driver, and every container, the provider's among them) are sampled for a peer outside 127.0.0.0/8
// and ::1. setpriv makes kubelet's pid the one we started (setpriv execs it).
const seen: Egress[] = [];
let sampler: NodeJS.Timeout | undefined;
beforeAll(() => {
  const sample = () => {
    for (const egress of egressOf(nodeProcesses(node.processes.pids, node.processes.containerdSocket))) {
      if (!seen.some((e) => e.remote === egress.remote && e.command === egress.command)) seen.push(egress);
    }
  };
  sample();
  sampler = setInterval(sample, 250);
});
afterAll(() => {
  clearInterval(sampler);
  expect(seen, 'a socket of the node reached beyond loopback').toEqual([]);
});
