/**
 * Priming (src/mount/prime.ts): right after its start the provider runs one made-up Mount through its own code, every
 * edge that would leave the process answered inside it, and opens its apiserver connection with a GET of /version.
 * Against the real peers: nothing reaches AWS (the fault proxy, the provider's AWS endpoint, records no call), the
 * apiserver sees one connection, and the first real Mount reuses it and answers with what AWS holds.
 */
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countCalls } from '../../bench/measure.js';
import { startPassThrough, writeKubeconfig, type PassThrough } from '../../harness/apiserverPassThrough.js';
import { createSecret } from '../../harness/moto.js';
import { useMountEnvironment } from '../../harness/mountEnvironment.js';
import { usePeers } from '../../harness/peers.js';

const REGION = 'us-east-1';
let passThrough: PassThrough;
let kubeconfigPath: string;

beforeAll(async () => {
  passThrough = await startPassThrough(usePeers().kube.server);
  kubeconfigPath = join(await mkdtemp(join(usePeers().runDir, 'priming-')), 'kubeconfig');
  await writeKubeconfig(kubeconfigPath, passThrough.server);
});
afterAll(() => passThrough?.close());

const env = useMountEnvironment({ kubeconfigPath: () => kubeconfigPath });

interface LogLine {
  msg: string;
  [field: string]: unknown;
}

function logLines(): LogLine[] {
  return env.provider
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

/** What the start did, taken before the first test's beforeEach clears the proxy's record. */
let atStart: { awsCalls: number; connections: number };

beforeAll(async () => {
  for (let i = 0; i < 400 && !logLines().some((line) => line.msg.startsWith('mount path ')); i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  atStart = { awsCalls: env.proxy.records.length, connections: passThrough.connections() };
});

describe('priming at start', () => {
  it('runs the Mount path once without a call to AWS, and opens one connection to the apiserver', () => {
    const lines = logLines();
    expect(lines.find((line) => line.msg.startsWith('mount path '))).toMatchObject({ msg: 'mount path primed', files: 4 });
    expect(lines.find((line) => line.msg === 'kubernetes client ready')?.apiServerVersion).toMatch(/^v1\.\d+\.\d+/);
    expect(atStart).toEqual({ awsCalls: 0, connections: 1 });
  });

  it('the first real Mount reuses that connection and answers with what AWS holds', async () => {
    await createSecret(REGION, 'priming/real', 'the real value');
    const who = await env.pod('after-priming');

    const response = await env.mount(who, {
      parameters: { region: REGION },
      objects: [{ objectName: 'priming/real', objectType: 'secretsmanager' }],
    });

    expect(response.files.map((f) => [f.path, f.contents.toString()])).toEqual([['priming_real', 'the real value']]);
    expect(countCalls(env.proxy.records).byAction).toEqual({
      'secretsmanager:BatchGetSecretValue': 1,
      'sts:AssumeRoleWithWebIdentity': 1,
    });
    expect(passThrough.connections()).toBe(1);
  });
});
