import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { parseDockerfile } from '../integration/packaging/dockerfile.js';

const ROOT = new URL('../../', import.meta.url).pathname;

/** The image's ENTRYPOINT in its parts: the node binary, its options (V8 heap sizing and the like), the script. */
export function imageEntrypoint(): { node: string; nodeOptions: string[]; script: string; args: string[] } {
  const entrypoints = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).filter((i) => i.keyword === 'ENTRYPOINT');
  const last = entrypoints.at(-1);
  if (last === undefined) throw new Error('the Dockerfile has no ENTRYPOINT');
  const [node, ...rest] = JSON.parse(last.rest) as string[];
  const script = rest.findIndex((arg) => !arg.startsWith('--'));
  if (node === undefined || script < 0) throw new Error(`the Dockerfile's ENTRYPOINT is not [node, options…, script]: ${last.rest}`);
  return { node, nodeOptions: rest.slice(0, script), script: rest[script]!, args: rest.slice(script + 1) };
}

/**
 * The node options of the image's ENTRYPOINT, so that whatever starts the built bundle here (the bench, tests of the
 * bundle) runs it as the image does. The Dockerfile is the one place they are written.
 */
export function imageNodeOptions(): string[] {
  return imageEntrypoint().nodeOptions;
}

/**
 * Where the image's compile cache is for a bundle built in this checkout: the runtime stage's NODE_COMPILE_CACHE
 * (absolute in the image) taken relative to its WORKDIR, here below the checkout (scripts/compile-cache.mjs fills it).
 */
export function imageCompileCacheDir(): string {
  const instructions = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
  const runtime = instructions.slice(instructions.findLastIndex((i) => i.keyword === 'FROM'));
  const workdir = runtime.findLast((i) => i.keyword === 'WORKDIR')?.rest;
  const cache = runtime.map((i) => (i.keyword === 'ENV' ? /^NODE_COMPILE_CACHE=(\S+)$/.exec(i.rest)?.[1] : undefined)).findLast(Boolean);
  if (workdir === undefined || cache === undefined) throw new Error("the Dockerfile's runtime stage sets no WORKDIR or no NODE_COMPILE_CACHE");
  return join(ROOT, posix.relative(workdir, cache));
}
