// Fills a Node.js compile cache for the bundle (the image's build runs this): V8's code for the files a start loads,
// so that a start reads compiled code instead of parsing ~3 MB of JavaScript (~100 ms of a ~500 ms start, README,
// Performance). Run it with the node binary and the node options the provider will run with, and name every user id
// it will run as:
//   node --max-semi-space-size=1 --max-opt=1 --experimental-async-context-frame scripts/compile-cache.mjs dist/compile-cache 0 65532
// Node.js files the cache under a directory named for its version, the CPU architecture, a hash of the V8 options
// and the user id, and each entry under the script's absolute path. A start that differs in any of these (other node
// options, another architecture, the files moved) compiles as if there were no cache: it is slower, never wrong.
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import process from 'node:process';
import { createInterface } from 'node:readline';
import { clearTimeout, setTimeout } from 'node:timers';
import { URL, fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const [target, ...uidArgs] = process.argv.slice(2);
if (!target) {
  process.stderr.write('usage: node [node options] scripts/compile-cache.mjs <cache directory> [user id …]\n');
  process.exit(2);
}
const cacheDir = resolve(target);
const uids = uidArgs.length > 0 ? uidArgs.map(Number) : [process.getuid()];
if (uids.some((uid) => !Number.isInteger(uid) || uid < 0)) throw new Error(`not user ids: ${uidArgs.join(' ')}`);

// Its /version is refused at once (nothing listens on port 1): a start goes on to prime without the apiserver.
const kubeconfig = `apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: none, user: {token: none}}]
contexts: [{name: none, context: {cluster: none, user: none}}]
current-context: none
`;

/**
 * One start of the provider as `uid`, with this process's node options, until it has loaded everything a start
 * loads and has primed its Mount path ("mount path primed", src/mount/prime.ts), so that a priming that fails on the
 * runtime image fails the build. Node.js writes the cache when it exits; it holds what V8 compiled as each file
 * loaded (2.7 KB more with the priming run), so the Mount path is still compiled at every start, by the priming. A
 * real start rather than importing the files: V8 checks its options when it reads the cache, and the provider sets
 * one of them as it starts.
 */
async function startOnce(uid) {
  const volume = mkdtempSync(join(tmpdir(), 'compile-cache-'));
  try {
    writeFileSync(join(volume, 'kubeconfig'), kubeconfig, { mode: 0o644 });
    chownSync(volume, uid, uid);
    const args = [`--provider-volume=${volume}`, `--kubeconfig=${join(volume, 'kubeconfig')}`, '--metrics-addr=127.0.0.1:0'];
    const child = spawn(process.execPath, [...process.execArgv, join(root, 'dist/src/main.js'), ...args], {
      // HOME as a container runtime always sets it: the build's user ids have no passwd entry, and without either
      // the SDK's look for ~/.aws/config throws in the priming's STS call.
      env: { PATH: process.env.PATH, HOME: volume, NODE_COMPILE_CACHE: cacheDir, AWS_EC2_METADATA_DISABLED: 'true' },
      uid,
      gid: uid,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stderr.on('data', (chunk) => (output += chunk));
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    let ready = false;
    for await (const line of createInterface({ input: child.stdout })) {
      output += `${line}\n`;
      const msg = line.startsWith('{') ? JSON.parse(line).msg : undefined;
      if (msg === 'mount path primed') {
        ready = true;
        child.kill('SIGTERM');
      } else if (msg === 'mount path not primed') child.kill('SIGTERM');
    }
    const status = await exited;
    clearTimeout(timer);
    if (!ready || status !== 0) throw new Error(`the provider did not start and stop cleanly as user ${uid} (exit ${status}):\n${output}`);
  } finally {
    rmSync(volume, { recursive: true, force: true });
  }
}

rmSync(cacheDir, { recursive: true, force: true });
mkdirSync(cacheDir, { recursive: true });
const owner = { uid: process.getuid(), gid: process.getgid() };
for (const uid of uids) {
  // Node.js writes the cache as the user it runs as, so that user owns the directory while it does.
  chownSync(cacheDir, uid, uid);
  await startOnce(uid);
}
// Read-only to the provider: a process that could rewrite its cache could change the code its next start runs.
// Node.js writes the entries readable by their writer alone (0600).
for (const path of [cacheDir, ...readdirSync(cacheDir, { recursive: true }).map((p) => join(cacheDir, p))]) {
  chownSync(path, owner.uid, owner.gid);
  chmodSync(path, statSync(path).isDirectory() ? 0o755 : 0o644);
}
const tags = readdirSync(cacheDir);
// A node without a compile cache (before 22.1) writes nothing, and the image would ship an empty directory.
if (tags.length !== uids.length) throw new Error(`${process.execPath} ${process.version} wrote no compile cache for some of the users ${uids.join(', ')} in ${cacheDir}: ${tags.join(', ') || 'nothing'}`);
process.stdout.write(`compile cache for node ${process.version} ${process.execArgv.join(' ')}: ${tags.join(', ')}\n`);
