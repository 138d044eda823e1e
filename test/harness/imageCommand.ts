import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDockerfile } from '../integration/packaging/dockerfile.js';

const ROOT = new URL('../../', import.meta.url).pathname;

/**
 * The node options of the image's ENTRYPOINT (V8 heap sizing), so that whatever starts the built bundle here (the
 * bench, tests of the bundle) runs it as the image does. The Dockerfile is the one place they are written.
 */
export function imageNodeOptions(): string[] {
  const entrypoints = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).filter((i) => i.keyword === 'ENTRYPOINT');
  const last = entrypoints.at(-1);
  if (last === undefined) throw new Error('the Dockerfile has no ENTRYPOINT');
  const [, ...args] = JSON.parse(last.rest) as string[];
  const script = args.findIndex((arg) => !arg.startsWith('--'));
  return args.slice(0, script < 0 ? args.length : script);
}
