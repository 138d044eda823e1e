import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startFaultProxy, type FaultProxy } from '../../harness/faultProxy.js';
import { createSecret, putParameter, replicateSecret, testCredentials } from '../../harness/moto.js';
import { usePeers } from '../../harness/peers.js';
import { freePort } from '../../harness/start/net.js';
import { PROXY_OUTGOING_ADDRESS, startTinyproxy, type Tinyproxy } from '../../harness/tinyproxy.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const PRIMARY = 'us-east-1';
const FAILOVER = 'us-east-2';
const id = randomBytes(3).toString('hex');
const DB = `check-${id}/db`;
const API = `check-${id}/api`;
const PARAMETER = `/check-${id}/parameter`;
const DB_VALUE = JSON.stringify({ username: 'app', password: `db-password-${id}` });
const API_VALUE = `api-token-${id}`;
const PARAMETER_VALUE = `parameter-value-${id}`;

let faults: FaultProxy;
let dir: string;
let dbVersion: string;
let apiVersion: string;

beforeAll(async () => {
  faults = await startFaultProxy(usePeers().motoUrl);
  dir = await mkdtemp(join(tmpdir(), 'check-'));
});
afterAll(async () => {
  await faults?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});
// After moto's reset before each test (test/harness/setup.ts).
beforeEach(async () => {
  dbVersion = (await createSecret(PRIMARY, DB, DB_VALUE)).versionId;
  apiVersion = (await createSecret(PRIMARY, API, API_VALUE)).versionId;
  await replicateSecret(PRIMARY, API, [FAILOVER]);
  await putParameter(PRIMARY, PARAMETER, PARAMETER_VALUE);
  faults.clearFaults();
  faults.clearRecords();
});

const OBJECTS = `
- objectName: ${DB}
  objectType: secretsmanager
  jmesPath:
    - path: username
      objectAlias: dbuser
      filePermission: "0600"
- objectName: ${API}
  objectType: secretsmanager
- objectName: ${PARAMETER}
  objectType: ssmparameter
`;

/** A file holding one SecretProviderClass of these parameters; its path. */
async function spcFile(name: string, parameters: Record<string, string>): Promise<string> {
  const path = join(dir, `${name}.yaml`);
  const spc = { apiVersion: 'secrets-store.csi.x-k8s.io/v1', kind: 'SecretProviderClass', metadata: { name }, spec: { provider: 'aws', parameters } };
  await writeFile(path, stringify(spc));
  return path;
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The command as a user runs it, in a process of its own: the caller's credentials come from the environment (the
 * SDK's default chain), AWS is the fault proxy, and no AWS config file exists in its HOME.
 */
function check(args: string[], env: Record<string, string> = {}, entry: { node: string; main: string } = source): Promise<Run> {
  const child = spawn(entry.node, [...(entry.main.endsWith('.ts') ? ['--import', 'tsx'] : []), entry.main, 'check', ...args], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      AWS_ENDPOINT_URL: faults.url,
      AWS_ACCESS_KEY_ID: testCredentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: testCredentials.secretAccessKey,
      AWS_EC2_METADATA_DISABLED: 'true',
      // Node 20 (this machine) draws a deprecation warning from the AWS SDK on stderr.
      NODE_NO_WARNINGS: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}
const source = { node: process.execPath, main: join(ROOT, 'src/main.ts') };

/** The table's row of a file, split into its columns. */
function row(stdout: string, file: string): string[] | undefined {
  return stdout
    .split('\n')
    .map((line) => line.split(/\s{2,}/))
    .find((cells) => cells[0] === file);
}

const fileOf = (name: string) => name.replaceAll('/', '_');

describe('check --fetch against AWS (moto behind the fault proxy)', () => {
  it('resolves every object as a Mount does and prints files, modes, sizes, versions and regions, never a value', async () => {
    const path = await spcFile('app', { region: PRIMARY, objects: OBJECTS });
    const { status, stdout, stderr } = await check(['--fetch', path]);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toContain(`${path} document 1 app: valid (3 objects, 4 files)`);
    expect(stdout).toContain(`${path} document 1 app: fetched as your AWS credentials from ${PRIMARY}`);
    expect(row(stdout, fileOf(DB))).toEqual([fileOf(DB), '0644', String(DB_VALUE.length), dbVersion, PRIMARY]);
    expect(row(stdout, 'dbuser')).toEqual(['dbuser', '0600', '3', dbVersion, PRIMARY]);
    expect(row(stdout, fileOf(API))).toEqual([fileOf(API), '0644', String(API_VALUE.length), apiVersion, PRIMARY]);
    expect(row(stdout, fileOf(PARAMETER))).toEqual([fileOf(PARAMETER), '0644', String(PARAMETER_VALUE.length), '1', PRIMARY]);
    for (const value of [DB_VALUE, `db-password-${id}`, API_VALUE, PARAMETER_VALUE]) expect(stdout).not.toContain(value);
    expect(stdout).toContain(`${path} document 1 app: IAM actions used: secretsmanager:BatchGetSecretValue, ssm:GetParameters`);
    // Batched as a Mount: both secrets in one call, the parameter in another.
    expect(faults.records.map((r) => `${r.action} ${r.region} ${r.secretIds.length + r.names.length}`).sort()).toEqual([
      `BatchGetSecretValue ${PRIMARY} 2`,
      `GetParameters ${PRIMARY} 1`,
    ]);
  });

  it('prints the values with --show-values, after a warning', async () => {
    const path = await spcFile('values', { region: PRIMARY, objects: OBJECTS });
    const { status, stdout, stderr } = await check(['--fetch', '--show-values', path]);
    expect(status).toBe(0);
    expect(stderr).toBe('warning: --show-values prints secret values; mind where this output goes\n');
    expect(stdout).toContain(`--- ${fileOf(API)}\n${API_VALUE}\n`);
    expect(stdout).toContain(`--- dbuser\napp\n`);
  });

  it('fails over as a Mount does when the primary region is down, and says which region served', async () => {
    faults.setFault({ kind: 'status', status: 503, region: PRIMARY });
    const objects = `- objectName: ${API}\n  objectType: secretsmanager`;
    const path = await spcFile('failover', { region: PRIMARY, failoverRegion: FAILOVER, objects });
    const { status, stdout } = await check(['--fetch', path]);
    expect({ status, stdout }).toMatchObject({ status: 0 });
    expect(row(stdout, fileOf(API))).toEqual([fileOf(API), '0644', String(API_VALUE.length), apiVersion, FAILOVER]);
    expect(faults.records.filter((r) => r.region === FAILOVER)).toHaveLength(1);
  });

  it('gives the Mount\'s error for an object AWS does not have, and exit status 1', async () => {
    const objects = `- objectName: check-${id}/missing\n  objectType: secretsmanager`;
    const path = await spcFile('missing', { region: PRIMARY, objects });
    const { status, stdout } = await check(['--fetch', path]);
    expect(status).toBe(1);
    expect(stdout).toMatch(new RegExp(`missing\\.yaml document 1 missing: ObjectNotFound: objects\\[0\\] "check-${id}/missing": Secrets Manager .* in ${PRIMARY} failed with ResourceNotFoundException`));
  });

  it('takes the region from --region or AWS_REGION when the class names none, and says so when none is set', async () => {
    const objects = `- objectName: ${API}\n  objectType: secretsmanager`;
    const path = await spcFile('no-region', { objects });
    const none = await check(['--fetch', path]);
    expect(none.status).toBe(1);
    expect(none.stdout).toContain('no-region: RegionNotFound: no region: the SecretProviderClass sets no "region" parameter');
    expect(faults.records).toHaveLength(0);
    for (const [args, env] of [[['--region', PRIMARY], {}], [[], { AWS_REGION: PRIMARY }]] as const) {
      const { status, stdout } = await check(['--fetch', ...args, path], env);
      expect({ status, stdout }).toMatchObject({ status: 0 });
      expect(row(stdout, fileOf(API))?.[4]).toBe(PRIMARY);
    }
  });

  it('runs from the built bundle on the image\'s Node.js too', async () => {
    // The bundle of these sources, as the image ships it (dist/src/main.js and its chunks).
    await promisify(execFile)('node', ['scripts/bundle.mjs'], { cwd: ROOT });
    const bundle = { node: usePeers().binaries.imageNode, main: join(ROOT, 'dist/src/main.js') };
    const path = await spcFile('bundle', { region: PRIMARY, objects: OBJECTS });
    const plain = await check([path, join(ROOT, 'test/fixtures/spc/02-key-value-pairs.yaml')], {}, bundle);
    expect(plain.status).toBe(0);
    expect(plain.stdout.match(/: valid /g)).toHaveLength(2);
    const fetched = await check(['--fetch', path], {}, bundle);
    expect(fetched).toMatchObject({ status: 0 });
    expect(row(fetched.stdout, 'dbuser')).toEqual(['dbuser', '0600', '3', dbVersion, PRIMARY]);
  });
});

describe('AWS calls through an HTTP proxy (tinyproxy), as the provider makes them', () => {
  let proxy: Tinyproxy;
  let refusing: Tinyproxy;
  let path: string;
  const endpoint = () => new URL(faults.url).host;

  beforeAll(async () => {
    proxy = await startTinyproxy();
    // Tunnels to port 443 only, as many egress proxies: the fault proxy's port is refused.
    refusing = await startTinyproxy({ connectPorts: [443] });
    path = await spcFile('proxied', { region: PRIMARY, objects: OBJECTS });
  });
  afterAll(async () => {
    await proxy?.close();
    await refusing?.close();
  });

  it.each([
    ['HTTP_PROXY', { HTTP_PROXY: 'PROXY', NO_PROXY: '' }],
    ['http_proxy', { http_proxy: 'PROXY', no_proxy: '' }],
  ])('every call goes through %s, none bypasses it', async (_name, env) => {
    const before = (await proxy.connects()).length;
    const { status, stdout } = await check(['--fetch', path], withProxy(env, proxy.url));
    expect({ status, stdout }).toMatchObject({ status: 0 });
    expect(row(stdout, 'dbuser')).toEqual(['dbuser', '0600', '3', dbVersion, PRIMARY]);
    expect(faults.records).toHaveLength(2);
    // The fault proxy saw every call come from tinyproxy's outgoing address, and tinyproxy logged the tunnels.
    expect(faults.records.map((r) => r.remoteAddress)).toEqual([PROXY_OUTGOING_ADDRESS, PROXY_OUTGOING_ADDRESS]);
    const tunnels = (await proxy.connects()).slice(before);
    expect(tunnels.length).toBeGreaterThanOrEqual(1);
    expect(new Set(tunnels)).toEqual(new Set([endpoint()]));
  });

  it('honours NO_PROXY: an exempt endpoint is called directly and the proxy sees nothing', async () => {
    const before = (await proxy.connects()).length;
    const { status, stdout } = await check(['--fetch', path], { HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' });
    expect({ status, stdout }).toMatchObject({ status: 0 });
    expect(faults.records).toHaveLength(2);
    expect(faults.records.map((r) => r.remoteAddress)).toEqual(['127.0.0.1', '127.0.0.1']);
    expect((await proxy.connects()).length).toBe(before);
  });

  it('a proxy that refuses the tunnel: the error names the proxy and nothing reaches AWS', async () => {
    const { status, stdout } = await check(['--fetch', path], { HTTP_PROXY: refusing.url, NO_PROXY: '' });
    expect(status).toBe(1);
    expect(stdout).toContain(`the proxy ${refusing.url} (HTTP_PROXY) refused the tunnel to ${endpoint()} (HTTP 403`);
    expect(faults.records).toHaveLength(0);
    expect(await refusing.connects()).toContain(endpoint());
  });

  it('a proxy that is not listening: the error names it, without the credentials of its URL', async () => {
    const nowhere = `127.0.0.1:${await freePort()}`;
    const { status, stdout } = await check(['--fetch', path], { HTTP_PROXY: `http://proxy-user:proxy-password@${nowhere}`, NO_PROXY: '' });
    expect(status).toBe(1);
    expect(stdout).toContain(`the proxy http://${nowhere} (HTTP_PROXY) could not be reached: connect ECONNREFUSED`);
    expect(stdout).not.toContain('proxy-password');
    expect(faults.records).toHaveLength(0);
  });
});

function withProxy(env: Record<string, string>, url: string): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, value === 'PROXY' ? url : value]));
}
