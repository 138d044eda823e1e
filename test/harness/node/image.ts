import { execFile, spawn } from 'node:child_process';
import { chmod, chown, copyFile, cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { promisify } from 'node:util';
import {
  build,
  compileCacheRun,
  dockerignore,
  offlineRunEnv,
  runtimeImageFiles,
  type Stage,
} from '../../integration/packaging/dockerfile.js';

const run = promisify(execFile);
const ROOT = new URL('../../../', import.meta.url).pathname;

/** The PATH a distroless image sets (its base image's config, which the Dockerfile does not write). */
const BASE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** distroless's users, by the ids its images run as: root and nonroot (65532). */
const PASSWD = 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n';
const GROUP = 'root:x:0:\nnonroot:x:65532:\n';

export interface ImageTools {
  /** The Node.js release the image runs (the runtime image's major), the peers' node-linux-<arch> package. */
  imageNode: string;
  umoci: string;
  busybox: string;
}

export interface BuiltImage {
  /** OCI image layout directory (index.json, blobs/). */
  layout: string;
  /** The layout as one tar file: what `ctr images import` reads. */
  archive: string;
  /** The tag inside the archive (`org.opencontainers.image.ref.name`); import with a base name to get a full ref. */
  tag: string;
}

/** umoci's architecture names are Go's. */
function goArch(): string {
  const arch = { x64: 'amd64', arm64: 'arm64' }[process.arch as string];
  if (!arch) throw new Error(`no image architecture for ${process.arch}`);
  return arch;
}

/**
 * Writes an image as an OCI layout with umoci: one layer holding `rootfs`, then the config, then the layout as a
 * tar archive beside it.
 */
async function writeImage(
  umoci: string,
  rootfs: string,
  outDir: string,
  name: string,
  tag: string,
  config: { user: string; entrypoint: string[]; workdir?: string; env?: string[]; labels?: Record<string, string>; ports?: string[] },
): Promise<BuiltImage> {
  const layout = join(outDir, name);
  await rm(layout, { recursive: true, force: true });
  const image = `${layout}:${tag}`;
  await run(umoci, ['init', '--layout', layout]);
  await run(umoci, ['new', '--image', image]);
  await run(umoci, ['insert', '--image', image, rootfs, '/']);
  const args = ['config', '--image', image, '--os', 'linux', '--architecture', goArch(), '--config.user', config.user];
  for (const part of config.entrypoint) args.push('--config.entrypoint', part);
  if (config.workdir) args.push('--config.workingdir', config.workdir);
  for (const env of config.env ?? []) args.push('--config.env', env);
  for (const [key, value] of Object.entries(config.labels ?? {})) args.push('--config.label', `${key}=${value}`);
  for (const port of config.ports ?? []) args.push('--config.exposedports', port);
  await run(umoci, args);
  await run(umoci, ['gc', '--layout', layout]);
  const archive = `${layout}.oci.tar`;
  await run('tar', ['-C', layout, '-cf', archive, '.']);
  return { layout, archive, tag };
}

/** The libraries a binary links (ldd), at the paths the loader finds them, and the loader itself. */
async function linkedLibraries(binary: string): Promise<string[]> {
  const { stdout } = await run('ldd', [binary]);
  return [...stdout.matchAll(/(?:=> )?(\/\S+) \(0x/g)].map((m) => m[1] as string);
}

/** Runs a script in mount and pid namespaces of its own: the mounts it makes vanish with it. */
function inNamespace(script: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['--mount', '--pid', '--fork', '--', 'sh', '-euc', script, 'sh', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(output) : reject(new Error(`${script} exited ${code}:\n${output}`))));
  });
}

/**
 * The provider's image, built without a container engine from the Dockerfile's own steps (dockerfile.ts performs
 * them), on the base image's files: the Node.js release of the runtime image's major, the libraries it links (this
 * Debian 12's, which distroless debian12 ships), distroless's users and CA bundle. The compile cache is made again
 * inside the image's root (chroot), where its entries' paths and the node binary are the ones the image runs.
 */
export async function buildProviderImage(tools: ImageTools, outDir: string): Promise<BuiltImage> {
  const workDir = await mkdtemp(join(tmpdir(), 'provider-image-'));
  try {
    // The compile cache is made as the image's user too, who must reach the stages' files.
    await chmod(workDir, 0o755);
    const dockerfile = await readFile(join(ROOT, 'Dockerfile'), 'utf8');
    const version = (JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const nodeDir = dirname(dirname(tools.imageNode));
    const stages = await build({
      context: ROOT,
      dockerfile: join(ROOT, 'Dockerfile'),
      workDir,
      buildArgs: { VERSION: version },
      runEnv: offlineRunEnv(),
      isIgnored: dockerignore(await readFile(join(ROOT, '.dockerignore'), 'utf8')),
      imageFiles: runtimeImageFiles(dockerfile, nodeDir),
    });
    const runtime = stages.at(-1) as Stage;
    const buildStage = stages.find((s) => s.name === 'build');
    if (!buildStage || !runtime.entrypoint || !runtime.user) throw new Error('the Dockerfile has no build stage, or its runtime stage no ENTRYPOINT or USER');
    const rootfs = runtime.root;

    // The base image's files: /nodejs (linked from the peer by the replay) becomes a copy, with what it links.
    const nodeInImage = runtime.entrypoint[0] as string;
    await rm(join(rootfs, 'nodejs'), { recursive: true, force: true });
    await mkdir(join(rootfs, dirname(nodeInImage)), { recursive: true });
    await copyFile(tools.imageNode, join(rootfs, nodeInImage));
    for (const library of await linkedLibraries(tools.imageNode)) {
      await mkdir(join(rootfs, dirname(library)), { recursive: true });
      await cp(library, join(rootfs, library), { dereference: true });
    }
    await mkdir(join(rootfs, 'etc/ssl/certs'), { recursive: true });
    await copyFile('/etc/ssl/certs/ca-certificates.crt', join(rootfs, 'etc/ssl/certs/ca-certificates.crt'));
    await writeFile(join(rootfs, 'etc/passwd'), PASSWD);
    await writeFile(join(rootfs, 'etc/group'), GROUP);
    await mkdir(join(rootfs, 'tmp'));
    await chmod(join(rootfs, 'tmp'), 0o1777);
    await mkdir(join(rootfs, 'home/nonroot'), { recursive: true });
    await chown(join(rootfs, 'home/nonroot'), 65532, 65532);
    // Mount points a container runtime fills (here the compile cache's run, below).
    await mkdir(join(rootfs, 'proc'));
    await mkdir(join(rootfs, 'dev'));

    // The build stage's compile-cache RUN, again where the image runs: same node options, directory and users.
    const { options, dir, uids } = compileCacheRun(buildStage);
    const cacheDir = posix.resolve(runtime.workdir, dir);
    if (runtime.env.NODE_COMPILE_CACHE !== cacheDir) throw new Error(`the runtime's NODE_COMPILE_CACHE is not ${cacheDir}`);
    const script = posix.join(runtime.workdir, 'scripts/compile-cache.mjs');
    await mkdir(join(rootfs, dirname(script)), { recursive: true });
    await copyFile(join(ROOT, 'scripts/compile-cache.mjs'), join(rootfs, script));
    await inNamespace('mount -t proc proc "$1/proc"; mount --rbind /dev "$1/dev"; root=$1; shift; exec chroot "$root" "$@"', [
      rootfs,
      nodeInImage,
      ...options,
      script,
      cacheDir,
      ...uids.map(String),
    ]);
    await rm(join(rootfs, dirname(script)), { recursive: true });

    const env = Object.entries(runtime.env).map(([k, v]) => `${k}=${v}`);
    return await writeImage(tools.umoci, rootfs, outDir, 'aws-secrets-csi-provider', version, {
      user: runtime.user,
      entrypoint: runtime.entrypoint,
      workdir: runtime.workdir,
      env: [`PATH=${BASE_PATH}`, 'SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt', ...env],
      labels: runtime.labels,
      ports: runtime.expose.map((p) => (p.includes('/') ? p : `${p}/tcp`)),
    });
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/**
 * The node's two small images from Debian's static busybox: `busybox` for test pods (a shell and coreutils), and
 * `pause`, the pod sandbox image containerd runs for every pod (it only has to wait).
 */
export async function buildBusyboxImages(tools: ImageTools, outDir: string): Promise<{ busybox: BuiltImage; pause: BuiltImage }> {
  const rootfs = await mkdtemp(join(tmpdir(), 'busybox-image-'));
  try {
    await mkdir(join(rootfs, 'bin'));
    await copyFile(tools.busybox, join(rootfs, 'bin/busybox'));
    await chmod(join(rootfs, 'bin/busybox'), 0o755);
    // Its applets as links to it (what `busybox --install -s` makes); the machine's copy lists them, as running the
    // fresh copy could race a concurrent fork that still holds it open for writing (ETXTBSY).
    const { stdout } = await run(tools.busybox, ['--list']);
    for (const applet of stdout.split('\n').filter((a) => a && a !== 'busybox')) await symlink('busybox', join(rootfs, 'bin', applet));
    await mkdir(join(rootfs, 'tmp'));
    await chmod(join(rootfs, 'tmp'), 0o1777);
    const env = [`PATH=${BASE_PATH}`];
    const busybox = await writeImage(tools.umoci, rootfs, outDir, 'busybox', 'node-test', { user: '0:0', entrypoint: ['/bin/sh'], env });
    const pause = await writeImage(tools.umoci, rootfs, outDir, 'pause', 'node-test', {
      user: '65535:65535',
      entrypoint: ['/bin/sleep', '2147483647'],
      env,
    });
    return { busybox, pause };
  } finally {
    await rm(rootfs, { recursive: true, force: true });
  }
}
