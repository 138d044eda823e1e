import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDriverClient } from '../../harness/driverClient.js';
import { imageNodeOptions } from '../../harness/imageCommand.js';
import { usePeers } from '../../harness/peers.js';
import { build, dockerignore, runIn, type Stage } from './dockerfile.js';
import { ROOT, container, parseManifest } from './support.js';

const run = promisify(execFile);
const peers = usePeers();

let workDir: string;
let stages: Stage[];
let runtime: Stage;
let version: string;
/** No network: npm installs from the cache `npm ci` filled before the tests. */
const runEnv = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  npm_config_cache: process.env.npm_config_cache ?? join(process.env.HOME ?? '/root', '.npm'),
  npm_config_offline: 'true',
  npm_config_update_notifier: 'false',
};

/** The image's entrypoint, run on this machine: the base image's node is this node, with the image's node options. */
function entrypoint(args: string[]) {
  const [node, ...rest] = runtime.entrypoint ?? [];
  expect(node).toBe('/nodejs/bin/node');
  const nodeOptions = imageNodeOptions();
  const [script, ...after] = rest.slice(nodeOptions.length);
  return {
    command: process.execPath,
    args: [...nodeOptions, join(runtime.root, script as string), ...after, ...args],
    cwd: join(runtime.root, runtime.workdir),
  };
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'image-'));
  version = (JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  stages = await build({
    context: ROOT,
    dockerfile: join(ROOT, 'Dockerfile'),
    workDir,
    buildArgs: { VERSION: version },
    runEnv,
    isIgnored: dockerignore(await readFile(join(ROOT, '.dockerignore'), 'utf8')),
  });
  runtime = stages.at(-1) as Stage;
}, 300_000);
afterAll(() => (workDir ? rm(workDir, { recursive: true, force: true }) : undefined));

describe('the Dockerfile', () => {
  it('builds on the build platform and ships on distroless Node.js LTS, as a numeric non-root user', () => {
    for (const stage of stages.slice(0, -1)) expect(stage.image).toMatch(/^node:(22|24)-/);
    expect(runtime.image).toMatch(/^gcr\.io\/distroless\/nodejs(22|24)-debian\d+(:nonroot)?$/);
    expect(runtime.user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    expect(runtime.runs).toEqual([]);
    expect(runtime.expose).toEqual(['8989']);
    expect(runtime.labels['org.opencontainers.image.version']).toBe(version);
  });

  it('is built from a context .dockerignore keeps small', async () => {
    const ignored = dockerignore(await readFile(join(ROOT, '.dockerignore'), 'utf8'));
    for (const path of ['node_modules', 'dist', '.git', 'test', 'charts']) expect(ignored(path), path).toBe(true);
  });

  it('fails the build when VERSION is not the package version', async () => {
    const build = stages.find((s) => s.name === 'build') as Stage;
    const check = build.runs.find((r) => r.includes('$VERSION')) as string;
    await expect(runIn({ ...build, args: { VERSION: '9.9.9' } }, check, runEnv)).rejects.toThrow(/exited 1/);
    await runIn({ ...build, args: { VERSION: version } }, check, runEnv);
  });

  it('ships production dependencies only, without native addons (so one build serves every architecture)', async () => {
    const modules = join(runtime.root, runtime.workdir, 'node_modules');
    for (const dev of ['typescript', 'vitest', 'tsx', 'eslint', 'fast-check']) expect(existsSync(join(modules, dev)), dev).toBe(false);
    for (const prod of ['@grpc/grpc-js', '@aws-sdk/client-secrets-manager', 'pino']) expect(existsSync(join(modules, prod)), prod).toBe(true);
    const native = (await readdir(modules, { recursive: true })).filter((f) => f.endsWith('.node'));
    expect(native).toEqual([]);
    const app = await readdir(join(runtime.root, runtime.workdir));
    expect(app.sort()).toEqual(['dist', 'node_modules', 'package.json', 'proto']);
  });

  it('npm start runs the bundle with the node options of the image', async () => {
    const { scripts } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(imageNodeOptions()).toContain('--max-semi-space-size=8');
    expect(scripts.start).toBe(['node', ...imageNodeOptions(), 'dist/src/main.js'].join(' '));
  });

  it('answers --version with the package version', async () => {
    const { command, args, cwd } = entrypoint(['--version']);
    const { stdout } = await run(command, args, { cwd, env: { PATH: process.env.PATH, ...runtime.env } });
    expect(stdout).toBe(`aws-secrets-csi-provider ${version}\n`);
  });

  it("starts with the chart's arguments and answers on its socket and on the chart's probe paths", async () => {
    const manifest = parseManifest(await readFile(join(ROOT, 'deploy/aws-secrets-csi-provider.yaml'), 'utf8'));
    const c = container(manifest);
    const providerDir = await mkdtemp(join(tmpdir(), 'image-provider-'));
    // The host directory and every interface of the pod become a temporary directory and loopback here.
    const args = c.args.map((a) =>
      a.startsWith('--provider-volume=') ? `--provider-volume=${providerDir}` : a.startsWith('--metrics-addr=') ? '--metrics-addr=127.0.0.1:0' : a,
    );
    const { command, args: argv, cwd } = entrypoint([...args, `--kubeconfig=${peers.kube.kubeconfigPath}`]);
    const child = spawn(command, argv, {
      cwd,
      env: { PATH: process.env.PATH, ...runtime.env, AWS_REGION: 'us-east-1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const client = connectDriverClient(posix.join(providerDir, 'aws.sock'));
    let failure: unknown;
    try {
      const deadline = Date.now() + 30_000;
      let port: string | undefined;
      while (!(port = /"metricsPort":(\d+)/.exec(output)?.[1])) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the bundle did not start:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect((await client.version()).runtimeVersion).toBe(version);
      for (const probe of [c.livenessProbe, c.readinessProbe]) {
        expect(probe.httpGet.port).toBe('metrics');
        const res = await fetch(`http://127.0.0.1:${port}${probe.httpGet.path}`);
        expect(res.status, probe.httpGet.path).toBe(200);
      }
    } catch (err) {
      failure = err;
    }
    client.close();
    child.kill('SIGTERM');
    const code = await exited;
    await rm(providerDir, { recursive: true, force: true });
    if (failure) throw failure;
    // SIGTERM drains and exits 0, as kubelet expects of a pod it stops.
    expect(code, output).toBe(0);
  });
});
