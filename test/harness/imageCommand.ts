import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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
