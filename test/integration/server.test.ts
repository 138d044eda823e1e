import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { usePeers } from '../harness/peers.js';
import { startProvider } from '../harness/provider.js';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const peers = usePeers();

function runProvider(args: string[]) {
  return run(process.execPath, ['--import', 'tsx', join(ROOT, 'src/main.ts'), ...args], { cwd: ROOT });
}

describe('the provider process', () => {
  it('answers Version with v1alpha1, its name and a semver version', async () => {
    const provider = await startProvider({ kubeconfigPath: peers.kube.kubeconfigPath });
    try {
      const answer = await provider.client.version();
      expect(answer.version).toBe('v1alpha1');
      expect(answer.runtimeName).toBe('aws-secrets-csi-provider');
      expect(answer.runtimeVersion).toMatch(/^\d+\.\d+\.\d+/);
    } finally {
      await provider.stop();
    }
  });

  it('replaces a stale socket left by a crashed run', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stale-'));
    const socketPath = join(dir, 'aws.sock');
    // A process killed with SIGKILL leaves its socket file behind, exactly as a crashed provider does.
    const crashed = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socketPath)})`]);
    while (!existsSync(socketPath)) await new Promise((resolve) => setTimeout(resolve, 20));
    crashed.kill('SIGKILL');
    await new Promise((resolve) => crashed.on('exit', resolve));
    expect(existsSync(socketPath)).toBe(true);

    const provider = await startProvider({ kubeconfigPath: peers.kube.kubeconfigPath, providerVolume: dir });
    try {
      expect((await provider.client.version()).version).toBe('v1alpha1');
    } finally {
      await provider.stop();
    }
  });

  it('on SIGTERM exits 0 and removes its socket', async () => {
    const provider = await startProvider({ kubeconfigPath: peers.kube.kubeconfigPath });
    expect(existsSync(provider.socketPath)).toBe(true);
    const code = await provider.stop('SIGTERM');
    expect(code).toBe(0);
    expect(existsSync(provider.socketPath)).toBe(false);
    expect(provider.output()).toMatch(/"msg":"stopped"/);
  });

  it('documents every ASCP flag in --help', async () => {
    const { stdout } = await runProvider(['--help']);
    for (const flag of ['provider-volume', 'driver-writes-secrets', 'qps', 'burst', 'eks-addon-version', 'pod-identity-http-timeout']) {
      expect(stdout).toContain(`--${flag}`);
    }
  });

  it("takes ASCP's Go-style flags as its manifests write them", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gostyle-'));
    const provider = await startProvider({
      kubeconfigPath: peers.kube.kubeconfigPath,
      providerVolume: dir,
      args: ['-qps=20', '--burst=40', '--driver-writes-secrets=true', '-pod-identity-http-timeout=250ms'],
    });
    try {
      expect((await provider.client.version()).version).toBe('v1alpha1');
    } finally {
      await provider.stop();
    }
  });

  it('refuses an unknown flag with the usage text and exit code 2', async () => {
    const failure = runProvider(['--no-such-flag']);
    await expect(failure).rejects.toMatchObject({ code: 2 });
    await expect(failure).rejects.toMatchObject({ stderr: expect.stringContaining('Usage:') });
  });
});
