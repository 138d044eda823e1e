import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadKubeConnection } from '../../../src/k8s/kubeApi.js';

function kubeconfig(user: Record<string, unknown>, cluster: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
  const file = join(dir, 'config');
  writeFileSync(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: 'other', cluster: { server: 'https://other.example:6443' } },
        { name: 'c', cluster: { server: 'https://127.0.0.1:6443', ...cluster } },
      ],
      users: [{ name: 'u', user }],
      contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'ctx',
    }),
  );
  return file;
}

describe('loadKubeConnection', () => {
  it("takes the current context's cluster and a bearer token", async () => {
    const connection = loadKubeConnection(kubeconfig({ token: 'abc' }));
    expect(connection.server.href).toBe('https://127.0.0.1:6443/');
    expect(await connection.authorization()).toBe('Bearer abc');
    expect(connection.insecureSkipTlsVerify).toBe(false);
  });

  it('reads a token file relative to the kubeconfig, and the CA from base64 data', async () => {
    const file = kubeconfig(
      { tokenFile: 'token' },
      { 'certificate-authority-data': Buffer.from('CA PEM').toString('base64') },
    );
    writeFileSync(join(file, '..', 'token'), 'from-file\n');
    const connection = loadKubeConnection(file);
    expect(await connection.authorization()).toBe('Bearer from-file');
    expect(connection.ca?.toString()).toBe('CA PEM');
  });

  it('a client certificate needs no Authorization header; basic auth is encoded', async () => {
    const cert = Buffer.from('CERT').toString('base64');
    const key = Buffer.from('KEY').toString('base64');
    const withCert = loadKubeConnection(kubeconfig({ 'client-certificate-data': cert, 'client-key-data': key }));
    expect(await withCert.authorization()).toBeUndefined();
    expect(withCert.cert?.toString()).toBe('CERT');
    expect(withCert.key?.toString()).toBe('KEY');
    const basic = loadKubeConnection(kubeconfig({ username: 'admin', password: 'pw' }));
    expect(await basic.authorization()).toBe(`Basic ${Buffer.from('admin:pw').toString('base64')}`);
  });

  it('runs an exec credential plugin once while its token is valid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exec-'));
    const counter = join(dir, 'runs');
    const plugin = join(dir, 'plugin.sh');
    writeFileSync(
      plugin,
      `#!/bin/sh\necho x >> ${counter}\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"exec-token","expirationTimestamp":"2999-01-01T00:00:00Z"}}'\n`,
      { mode: 0o755 },
    );
    const connection = loadKubeConnection(kubeconfig({ exec: { apiVersion: 'client.authentication.k8s.io/v1', command: plugin } }));
    expect(await connection.authorization()).toBe('Bearer exec-token');
    expect(await connection.authorization()).toBe('Bearer exec-token');
    expect(readFileSync(counter, 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('names what is missing in a broken kubeconfig', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
    const file = join(dir, 'config');
    writeFileSync(file, stringify({ contexts: [], 'current-context': 'nope' }));
    expect(() => loadKubeConnection(file)).toThrow(/no context named "nope"/);
  });
});
