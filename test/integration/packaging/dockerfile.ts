import { spawn } from 'node:child_process';
import { cp, lstat, mkdir, readFile, readlink, stat, symlink } from 'node:fs/promises';
import { basename, join, posix } from 'node:path';

/**
 * Performs a Dockerfile's steps without a container engine, in one temporary directory per stage: COPY from the
 * context or from an earlier stage, RUN with bash in the stage's WORKDIR, ARG, ENV, LABEL, ENTRYPOINT. Absolute
 * paths of a stage map into its directory. Only the instructions our Dockerfile uses are understood; any other is
 * an error, so the Dockerfile cannot grow a step this test silently skips. What it cannot check is the base images:
 * RUN uses this machine's node and npm (offline, from the npm cache), a base image's files are what `imageFiles`
 * says of them, and the runtime stage runs no command.
 */
export interface Stage {
  name: string;
  image: string;
  /** Directory standing for the stage's filesystem root. */
  root: string;
  workdir: string;
  args: Record<string, string>;
  env: Record<string, string>;
  labels: Record<string, string>;
  user?: string;
  expose: string[];
  entrypoint?: string[];
  /** The RUN commands, as written after any --mount options. */
  runs: string[];
}

export interface Instruction {
  keyword: string;
  rest: string;
}

export function parseDockerfile(text: string): Instruction[] {
  const logical = text.replace(/\\\n/g, ' ').split('\n');
  return logical
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const match = /^(\S+)\s+(.*)$/.exec(line);
      if (!match) throw new Error(`cannot read Dockerfile line: ${line}`);
      return { keyword: (match[1] as string).toUpperCase(), rest: match[2] as string };
    });
}

function substitute(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced?: string, bare?: string) => {
    const name = (braced ?? bare) as string;
    return name in vars ? (vars[name] as string) : whole;
  });
}

/** `a=b "c=d e"` → {a: 'b', c: 'd e'} (LABEL and ENV). */
function pairs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/([\w.-]+)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
    const value = m[2] as string;
    out[m[1] as string] = value.startsWith('"') ? (JSON.parse(value) as string) : value;
  }
  return out;
}

export interface BuildOptions {
  context: string;
  dockerfile: string;
  workDir: string;
  buildArgs: Record<string, string>;
  /** Environment of every RUN (PATH, npm settings). */
  runEnv: Record<string, string | undefined>;
  /** The context paths a COPY may take (those .dockerignore does not exclude). */
  isIgnored(path: string): boolean;
  /** What a base image holds that the Dockerfile uses, by image: absolute path in the image → path on this machine. */
  imageFiles?: Record<string, Record<string, string>>;
}

export async function build(options: BuildOptions): Promise<Stage[]> {
  const stages: Stage[] = [];
  const globalArgs: Record<string, string> = {};
  let stage: Stage | undefined;
  const inStage = (keyword: string): Stage => {
    if (!stage) throw new Error(`${keyword} before FROM`);
    return stage;
  };
  const mapped = (s: Stage, path: string) => join(s.root, posix.resolve(s.workdir, path));

  for (const { keyword, rest } of parseDockerfile(await readFile(options.dockerfile, 'utf8'))) {
    switch (keyword) {
      case 'ARG': {
        const [name, written = ''] = rest.split(/=(.*)/s) as [string, string?];
        const fallback = /^".*"$/.test(written) ? (JSON.parse(written) as string) : written;
        const value = options.buildArgs[name] ?? (stage ? globalArgs[name] : undefined) ?? fallback;
        if (stage) stage.args[name] = value;
        else globalArgs[name] = value;
        break;
      }
      case 'FROM': {
        const match = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
        if (!match) throw new Error(`cannot read FROM ${rest}`);
        const name = match[2] ?? String(stages.length);
        stage = { name, image: substitute(match[1] as string, globalArgs), root: join(options.workDir, `stage-${name}`), workdir: '/', args: {}, env: {}, labels: {}, expose: [], runs: [] };
        await mkdir(stage.root, { recursive: true });
        for (const [inImage, onMachine] of Object.entries(options.imageFiles?.[stage.image] ?? {})) {
          const path = join(stage.root, inImage);
          await mkdir(join(path, '..'), { recursive: true });
          await symlink(onMachine, path);
        }
        stages.push(stage);
        break;
      }
      case 'WORKDIR': {
        const s = inStage(keyword);
        s.workdir = posix.resolve(s.workdir, rest);
        await mkdir(mapped(s, '.'), { recursive: true });
        break;
      }
      case 'ENV':
        Object.assign(inStage(keyword).env, pairs(rest));
        break;
      case 'LABEL': {
        const s = inStage(keyword);
        for (const [k, v] of Object.entries(pairs(rest))) s.labels[k] = substitute(v, { ...s.args, ...s.env });
        break;
      }
      case 'USER':
        inStage(keyword).user = rest;
        break;
      case 'EXPOSE':
        inStage(keyword).expose.push(...rest.split(/\s+/));
        break;
      case 'ENTRYPOINT':
        inStage(keyword).entrypoint = JSON.parse(rest) as string[];
        break;
      case 'COPY': {
        const s = inStage(keyword);
        const words = rest.split(/\s+/);
        const fromName = words[0]?.startsWith('--from=') ? words.shift()?.slice('--from='.length) : undefined;
        const from = fromName === undefined ? undefined : stages.find((st) => st.name === fromName);
        if (fromName !== undefined && !from) throw new Error(`COPY --from=${fromName}: no such stage before this one`);
        if (words.some((w) => w.startsWith('--'))) throw new Error(`COPY option not understood: ${rest}`);
        const dest = words.pop() as string;
        for (const source of words) {
          let sourcePath: string;
          if (from) sourcePath = join(from.root, posix.resolve(from.workdir, source));
          else {
            if (options.isIgnored(source)) throw new Error(`COPY ${source}: excluded from the build context by .dockerignore`);
            sourcePath = join(options.context, source);
          }
          const isDir = (await stat(sourcePath)).isDirectory();
          const target = isDir || !dest.endsWith('/') ? mapped(s, dest) : join(mapped(s, dest), basename(source));
          if ((await lstat(sourcePath)).isSymbolicLink()) {
            // A base image's files (imageFiles): linked, not copied, as they are on this machine.
            await mkdir(join(target, '..'), { recursive: true });
            await symlink(await readlink(sourcePath), target);
            continue;
          }
          await mkdir(isDir ? target : join(target, '..'), { recursive: true });
          await cp(sourcePath, target, { recursive: true });
        }
        break;
      }
      case 'RUN': {
        const s = inStage(keyword);
        const command = rest.replace(/^(--\S+\s+)+/, '');
        s.runs.push(command);
        await runIn(s, command, options.runEnv);
        break;
      }
      default:
        throw new Error(`Dockerfile instruction ${keyword} is not performed by this test: teach test/integration/packaging/dockerfile.ts`);
    }
  }
  return stages;
}

/** Runs one RUN command of a stage, with its ARGs and ENVs; rejects with the output when it fails. */
export function runIn(stage: Stage, command: string, env: Record<string, string | undefined>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', command], {
      cwd: join(stage.root, stage.workdir),
      env: { ...env, ...stage.args, ...stage.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(output) : reject(new Error(`RUN ${command} (stage ${stage.name}) exited ${code}:\n${output}`)),
    );
  });
}

/** Docker's .dockerignore, for the simple patterns we write: a path, a `*` glob, no `!` exceptions. */
export function dockerignore(text: string): (path: string) => boolean {
  const patterns = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  if (patterns.some((p) => p.startsWith('!') || p.includes('**'))) throw new Error('.dockerignore: exceptions and ** are not understood');
  const regexes = patterns.map(
    (p) => new RegExp(`^${p.replace(/^\.?\//, '').replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}(/.*)?$`),
  );
  return (path) => {
    const clean = posix.normalize(path).replace(/^\.\//, '').replace(/\/$/, '');
    return regexes.some((r) => r.test(clean));
  };
}

/** A RUN's environment without network: npm installs from the cache `npm ci` filled on this machine. */
export function offlineRunEnv(): Record<string, string | undefined> {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    npm_config_cache: process.env.npm_config_cache ?? join(process.env.HOME ?? '/root', '.npm'),
    npm_config_offline: 'true',
    npm_config_update_notifier: 'false',
  };
}

/**
 * What the build takes from the runtime image (ARG RUNTIME_IMAGE): its Node.js, here `nodeDir`, a release of the same
 * major from the npm registry's node-linux-<arch> package.
 */
export function runtimeImageFiles(dockerfile: string, nodeDir: string): Record<string, Record<string, string>> {
  const arg = parseDockerfile(dockerfile).find((i) => i.keyword === 'ARG' && i.rest.startsWith('RUNTIME_IMAGE='));
  if (!arg) throw new Error('the Dockerfile declares no ARG RUNTIME_IMAGE=<image>');
  return { [arg.rest.slice('RUNTIME_IMAGE='.length)]: { '/nodejs': nodeDir } };
}

/** The build's RUN that fills the compile cache: its node (relative to WORKDIR), node options, directory and users. */
export function compileCacheRun(build: Stage): { node: string; options: string[]; dir: string; uids: number[] } {
  const fill = build.runs.find((r) => r.includes('scripts/compile-cache.mjs'));
  const match = /^(\S+\/node)((?: --\S+)*) scripts\/compile-cache\.mjs (\S+)((?: \d+)+)$/.exec(fill ?? '');
  if (!match) throw new Error(`the build stage has no RUN <node> [options] scripts/compile-cache.mjs <dir> <uid…>: ${fill}`);
  const [, node, options, dir, uids] = match as unknown as [string, string, string, string, string];
  return { node, options: options.trim().split(' '), dir, uids: uids.trim().split(' ').map(Number) };
}
