import { execFile, spawn } from 'node:child_process';
import { isBuiltin } from 'node:module';
import { chmod, chown, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IRSA_AUDIENCE, POD_IDENTITY_AUDIENCE, ROLE_ANNOTATION } from '../../fixtures/identity.js';
import { mountRequest } from '../../fixtures/mountRequest.js';
import { connectDriverClient } from '../../harness/driverClient.js';
import { imageEntrypoint, imageNodeOptions } from '../../harness/imageCommand.js';
import { createServiceAccount, ensureNamespace, serviceAccountTokens } from '../../harness/kube.js';
import { createSecret, putParameter } from '../../harness/moto.js';
import { usePeers } from '../../harness/peers.js';
import { usePodIdentityAgent } from '../../harness/podIdentityAgent.js';
import { startProvider } from '../../harness/provider.js';
import { startFaultProxy } from '../../harness/faultProxy.js';
import { issuedAccessKeys } from '../identity/support.js';
import { build, compileCacheRun, dockerignore, offlineRunEnv, runIn, runtimeImageFiles, type Stage } from './dockerfile.js';
import { ROOT, container, parseManifest } from './support.js';

const run = promisify(execFile);
const peers = usePeers();
const agent = usePodIdentityAgent();

let workDir: string;
let stages: Stage[];
let runtime: Stage;
let version: string;
/** No network: npm installs from the cache `npm ci` filled before the tests. */
const runEnv = offlineRunEnv();

/** The runtime stage's ENV, its paths mapped into the stage's directory as the files are. */
function runtimeEnv(): Record<string, string> {
  const cache = runtime.env.NODE_COMPILE_CACHE;
  return cache === undefined ? runtime.env : { ...runtime.env, NODE_COMPILE_CACHE: join(runtime.root, cache) };
}

/**
 * The image's entrypoint, run on this machine: its /nodejs/bin/node is the image's Node.js release (a pinned peer, the
 * Dockerfile's major), not the machine's, with the image's node options.
 */
function entrypoint(args: string[]) {
  expect(runtime.entrypoint?.[0]).toBe('/nodejs/bin/node');
  const { nodeOptions, script, args: fixed } = imageEntrypoint();
  return {
    command: peers.binaries.imageNode,
    args: [...nodeOptions, join(runtime.root, script), ...fixed, ...args],
    cwd: join(runtime.root, runtime.workdir),
  };
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'image-'));
  // The build fills the compile cache as the image's user too, who must reach the stages' files.
  await chmod(workDir, 0o755);
  version = (JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  stages = await build({
    context: ROOT,
    dockerfile: join(ROOT, 'Dockerfile'),
    workDir,
    buildArgs: { VERSION: version },
    runEnv,
    isIgnored: dockerignore(await readFile(join(ROOT, '.dockerignore'), 'utf8')),
    imageFiles: runtimeImageFiles(await readFile(join(ROOT, 'Dockerfile'), 'utf8'), dirname(dirname(peers.binaries.imageNode))),
  });
  runtime = stages.at(-1) as Stage;
}, 300_000);
afterAll(() => (workDir ? rm(workDir, { recursive: true, force: true }) : undefined));

describe('the Dockerfile', () => {
  it('builds on the build platform and ships on distroless Node.js LTS, as a numeric non-root user', async () => {
    // The tests run the image's files on the Node.js release the peers pinned: it must be the image's major.
    const { stdout } = await run(peers.binaries.imageNode, ['--version']);
    const major = /^v(\d+)\./.exec(stdout)?.[1];
    expect(['22', '24']).toContain(major);
    expect(runtime.image).toMatch(new RegExp(`^gcr\\.io/distroless/nodejs${major}-debian\\d+(:nonroot)?$`));
    // The stages before the runtime: the runtime image itself (its Node.js, for the compile cache), and the build.
    for (const stage of stages.slice(0, -1)) expect(stage.image).toMatch(new RegExp(`^(node:${major}-|${runtime.image.replace(/[.]/g, '\\.')}$)`));
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

  it('ships the bundle, the proto and package.json: no node_modules, no native addons (one build, every architecture)', async () => {
    const app = join(runtime.root, runtime.workdir);
    expect((await readdir(app)).sort()).toEqual(['dist', 'package.json', 'proto']);
    expect((await readdir(join(app, 'dist'))).sort()).toEqual(['compile-cache', 'src']);
    expect((await readdir(join(app, 'dist/src'))).sort()).toEqual(['chunks', 'files', 'main.js']);
    expect(await readdir(join(app, 'dist/src/files'))).toEqual(['jmespathWorker.js']);
    const bundle = join(app, 'dist/src');
    const files = (await readdir(bundle, { recursive: true })).filter((f) => /\.[cm]?js$/.test(f));
    expect(files.filter((f) => f.endsWith('.node'))).toEqual([]);
    // Every package the bundle loads is inside it: what it still names are optional add-ons its dependencies load in
    // a try (ws, node-fetch; kerberos, for https-proxy-agent's Negotiate proxy authentication, which the provider never
    // asks for) or name in an error message (the SDK's SigV4a signers). Any other would be missing here.
    const named = new Set<string>();
    const loads = [
      /(?<![\w$])(?:__require|require|import)\(\s*["']([^"']+)["']\s*\)/g, // require("x") (esbuild: __require), import("x")
      /(?:^|[;}])\s*(?:import|export)\s*(?:[\w$\s{},*]+from\s*)?["']([^"']+)["']/gm, // import … from "x", import "x"
    ];
    for (const file of files) {
      const code = await readFile(join(bundle, file), 'utf8');
      for (const pattern of loads) for (const [, name] of code.matchAll(pattern)) named.add(name!);
    }
    const packages = [...named].filter((name) => !name.startsWith('.') && !isBuiltin(name));
    expect(packages.sort()).toEqual(['@aws-sdk/signature-v4-crt', '@aws-sdk/signature-v4a', 'encoding', 'kerberos']);
  });

  it("loads undici (Node's fetch, ~14 MB resident) only when fetch is called, not by importing any of its files", async () => {
    // On Node 22, an ES module import of `http` alone loads undici (scripts/bundle.mjs says why); the bundle imports
    // `http` through require, and only Pod Identity calls fetch.
    const chunks = join(runtime.root, runtime.workdir, 'dist/src/chunks');
    const script = `
      const { readdirSync } = await import('node:fs');
      const undici = () => process.moduleLoadList.includes('NativeModule internal/deps/undici/undici');
      for (const file of readdirSync(${JSON.stringify(chunks)})) await import(${JSON.stringify(`${chunks}/`)} + file);
      const imported = undici();
      await fetch('http://127.0.0.1:1').catch(() => {});
      console.log(JSON.stringify({ imported, fetched: undici() }));`;
    const { stdout } = await run(peers.binaries.imageNode, [...imageNodeOptions(), '--input-type=module', '-e', script]);
    expect(JSON.parse(stdout)).toEqual({ imported: false, fetched: true });
  });

  it("leaves out client-node's CoreV1Api and its model serializer: the provider's three GETs need neither", async () => {
    // ~1.3 MB of JavaScript that would run at load and stay in memory (src/k8s/coreApi.ts, scripts/bundle.mjs).
    const chunks = join(runtime.root, runtime.workdir, 'dist/src/chunks');
    const files = await readdir(chunks);
    const sources = await Promise.all(files.map((file) => readFile(join(chunks, file), 'utf8')));
    const kept = (name: string) => files.filter((_, i) => sources[i]!.includes(name));
    expect(kept('KubeConfig=class'), 'KubeConfig is in one chunk').toHaveLength(1);
    expect(['CoreV1ApiRequestFactory', 'ObservableCoreV1Api', 'ObjectSerializer', 'class V1PodSpec'].flatMap(kept)).toEqual([]);
  });

  it('npm start runs the bundle with the node options of the image', async () => {
    const { scripts } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(imageNodeOptions()).toContain('--max-semi-space-size=1');
    expect(scripts.start).toBe(['node', ...imageNodeOptions(), 'dist/src/main.js'].join(' '));
  });

  it("ships a compile cache made with the entrypoint's node options, for the image's user and the chart's, at the paths it runs from", async () => {
    const build = stages.find((s) => s.name === 'build') as Stage;
    const { options, dir, uids } = compileCacheRun(build);
    expect(options).toEqual(imageNodeOptions());
    // Node.js keys each entry by the file's absolute path: the build fills it where the runtime runs from.
    expect(build.workdir).toBe(runtime.workdir);
    expect(runtime.env.NODE_COMPILE_CACHE).toBe(posix.join(runtime.workdir, dir));
    const chartUser = parseManifest(await readFile(join(ROOT, 'deploy/aws-secrets-csi-provider.yaml'), 'utf8'));
    expect([...uids].sort()).toEqual([Number(container(chartUser).securityContext.runAsUser), Number(runtime.user?.split(':')[0])].sort());
    const built = join(build.root, build.workdir, dir);
    const shipped = join(runtime.root, runtime.workdir, dir);
    const files = (await readdir(built, { recursive: true })).sort();
    expect((await readdir(shipped, { recursive: true })).sort()).toEqual(files);
    // Not the provider's to rewrite: its next start would run what it wrote.
    for (const file of files) expect((await stat(join(built, file))).uid, file).toBe(0);
  });

  it('starts from its compile cache: every file the provider loads is compiled code from the cache, as either user, then lets it go', async () => {
    // From the build stage's files, where the entries' absolute paths are the ones the cache was made for.
    const build = stages.find((s) => s.name === 'build') as Stage;
    const app = join(build.root, build.workdir);
    const { node, dir, uids } = compileCacheRun(build);
    for (const uid of uids) {
      const volume = await mkdtemp(join(tmpdir(), 'image-cache-'));
      await chown(volume, uid, uid);
      // Never called: the provider only loads its Kubernetes client at start.
      const kubeconfig = join(volume, 'kubeconfig');
      await writeFile(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n', { mode: 0o644 });
      const child = spawn(
        join(app, node),
        [...imageNodeOptions(), join(app, 'dist/src/main.js'), `--provider-volume=${volume}`, `--kubeconfig=${kubeconfig}`, '--metrics-addr=127.0.0.1:0'],
        {
          cwd: app,
          uid,
          gid: uid,
          env: { PATH: process.env.PATH, NODE_COMPILE_CACHE: join(app, dir), NODE_DEBUG_NATIVE: 'COMPILE_CACHE' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      const verdicts = () => [...output.matchAll(/\[compile cache\] cache for file:\/\/\S+\/dist\/src\/(\S+) was (\w+)/g)].map(([, file, verdict]) => ({ file: file!, verdict: verdict! }));
      try {
        const deadline = Date.now() + 30_000;
        // The Kubernetes client is the last file a start loads; then the provider frees Node's copy of the cache
        // (it would otherwise keep ~0.8 MB until exit), before anything stops it.
        while (!(verdicts().some((v) => v.file.startsWith('chunks/coreApi-')) && output.includes('[compile cache] Clear deserialized cache'))) {
          if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the provider did not load its Kubernetes client and release the cache as user ${uid}:\n${output}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      } finally {
        child.kill('SIGTERM');
        await exited;
        await rm(volume, { recursive: true, force: true });
      }
      const files = verdicts().map((v) => v.file);
      for (const loaded of ['main.js', 'chunks/provider-', 'chunks/coreApi-']) expect(files.some((f) => f.startsWith(loaded)), `${loaded} as user ${uid}`).toBe(true);
      expect(verdicts().filter((v) => v.verdict !== 'accepted'), `as user ${uid}:\n${output}`).toEqual([]);
    }
  });

  it('answers --version with the package version', async () => {
    const { command, args, cwd } = entrypoint(['--version']);
    const { stdout } = await run(command, args, { cwd, env: { PATH: process.env.PATH, ...runtimeEnv() } });
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
      env: { PATH: process.env.PATH, ...runtimeEnv(), AWS_REGION: 'us-east-1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
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

  it("mounts through IRSA and through Pod Identity on the image's Node.js, from the image's files", async () => {
    // The machine's node runs every other test; this one is the runtime users get (its SDK, fetch and gRPC paths).
    const region = 'eu-west-1';
    const namespace = `image-${Date.now().toString(36)}`;
    await ensureNamespace(namespace);
    await createServiceAccount(namespace, 'irsa', { [ROLE_ANNOTATION]: 'arn:aws:iam::123456789012:role/image' });
    await createServiceAccount(namespace, 'pod-identity');
    await createSecret(region, 'image/secret', '{"user":"app"}');
    await putParameter(region, '/image/parameter', 'p-value');
    const provider = await startProvider({
      kubeconfigPath: peers.kube.kubeconfigPath,
      entry: join(runtime.root, runtime.workdir, 'dist/src/main.js'),
      node: peers.binaries.imageNode,
      args: [`--pod-identity-endpoint-ipv4=${agent.ipv4Url}`, `--pod-identity-endpoint-ipv6=${agent.ipv6Url}`],
      env: { ...runtimeEnv(), AWS_ENDPOINT_URL: peers.motoUrl },
    });
    try {
      const objects = [
        { objectName: 'image/secret', objectType: 'secretsmanager', jmesPath: [{ path: 'user', objectAlias: 'user' }] },
        { objectName: '/image/parameter', objectType: 'ssmparameter', objectAlias: 'parameter' },
      ];
      for (const [serviceAccountName, parameters] of [
        ['irsa', { region }],
        ['pod-identity', { region, usePodIdentity: 'true' }],
      ] as const) {
        const tokens = await serviceAccountTokens(namespace, serviceAccountName, [IRSA_AUDIENCE, POD_IDENTITY_AUDIENCE]);
        const response = await provider.client.mount(
          mountRequest({ pod: { namespace, name: `${serviceAccountName}-pod`, serviceAccountName }, parameters, objects, tokens }),
        );
        const files = Object.fromEntries(response.files.map((f) => [f.path, f.contents.toString()]));
        expect(files, serviceAccountName).toEqual({ image_secret: '{"user":"app"}', user: 'app', parameter: 'p-value' });
      }
      expect(agent.requests.map((r) => r.family)).toEqual(['IPv4']);
      expect(provider.output()).not.toMatch(/"level":(40|50)|Warning/);
    } finally {
      await provider.stop();
    }
  });

  it("signs every AWS request as the identity that sent it, many identities mounting at once, on the image's Node.js and options", async () => {
    // The SDK clients are shared by every identity of a region, and AsyncLocalStorage tells each request its signer:
    // this is that, on the runtime and with the AsyncLocalStorage implementation (node options) that users get.
    const region = 'ap-south-1';
    const namespace = `image-signers-${Date.now().toString(36)}`;
    await ensureNamespace(namespace);
    const tenants = ['t0', 't1', 't2', 't3', 't4'];
    const pods = [0, 1, 2, 3];
    const roleOf = (tenant: string) => `arn:aws:iam::123456789012:role/${namespace}-${tenant}`;
    for (const tenant of tenants) {
      await createServiceAccount(namespace, tenant, { [ROLE_ANNOTATION]: roleOf(tenant) });
      for (const pod of pods) await createSecret(region, `${namespace}/${tenant}/${pod}`, `${tenant}/${pod}`);
    }
    const proxy = await startFaultProxy(peers.motoUrl);
    const provider = await startProvider({
      kubeconfigPath: peers.kube.kubeconfigPath,
      entry: join(runtime.root, runtime.workdir, 'dist/src/main.js'),
      node: peers.binaries.imageNode,
      env: { ...runtimeEnv(), AWS_ENDPOINT_URL: proxy.url },
    });
    try {
      const tokens = Object.fromEntries(
        await Promise.all(tenants.map(async (t) => [t, await serviceAccountTokens(namespace, t, [IRSA_AUDIENCE, POD_IDENTITY_AUDIENCE])] as const)),
      );
      const mount = (tenant: string, pod: number) =>
        provider.client
          .mount(
            mountRequest({
              pod: { namespace, name: `${tenant}-${pod}`, serviceAccountName: tenant },
              parameters: { region },
              objects: [{ objectName: `${namespace}/${tenant}/${pod}`, objectType: 'secretsmanager', objectAlias: 'secret' }],
              tokens: tokens[tenant]!,
            }),
          )
          .then((response) => ({ expected: `${tenant}/${pod}`, contents: response.files[0]?.contents.toString() }));
      // Each identity's credentials and ServiceAccount first, so that in the storm every Mount goes straight to its
      // fetch and the requests of all identities are sent in the same few ticks, interleaved.
      for (const tenant of tenants) await mount(tenant, 0);
      proxy.clearRecords();
      // Each pod its own secret, so that no two Mounts share a fetch and each one signs its own calls.
      const storm = await Promise.all(tenants.flatMap((tenant) => pods.map((pod) => mount(tenant, pod))));
      for (const { expected, contents } of storm) expect(contents).toBe(expected);

      const keys = Object.fromEntries(await Promise.all(tenants.map(async (t) => [t, await issuedAccessKeys(roleOf(t))] as const)));
      for (const tenant of tenants) expect(keys[tenant], tenant).toHaveLength(1);
      const fetches = proxy.records.filter((r) => r.service === 'secretsmanager');
      expect(fetches).toHaveLength(tenants.length * pods.length);
      for (const fetch of fetches) {
        expect(fetch.secretIds, 'one tenant per call').toHaveLength(1);
        const owner = fetch.secretIds[0]!.split('/')[1]!;
        expect(fetch.accessKeyId, fetch.secretIds[0]).toBe(keys[owner]![0]);
      }
    } finally {
      await provider.stop();
      await proxy.close();
    }
  });
});
