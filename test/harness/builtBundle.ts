import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { usePeers } from './peers.js';

const ROOT = new URL('../../', import.meta.url).pathname;
/** The files of the bundle the image ships (Dockerfile), below the checkout. */
const BUNDLE_ENTRIES = ['dist/src/main.js', 'dist/src/files/jmespathWorker.js'];

export interface BuiltBundle {
  /** dist/src/main.js of this checkout. */
  entry: string;
  /** The image's Node.js. */
  node: string;
}

/**
 * The provider as the image runs it: this checkout's bundle (`npm run build`) on the image's Node.js. A bundle that
 * is missing, or older than a source file, fails the test that asks for it: it would test other code than the one
 * checked out.
 */
export function builtBundle(): BuiltBundle {
  const newestSource = Math.max(
    ...readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' }).map((file) => statSync(join(ROOT, 'src', file)).mtimeMs),
  );
  for (const file of BUNDLE_ENTRIES) {
    const built = statSync(join(ROOT, file), { throwIfNoEntry: false });
    if (built === undefined || built.mtimeMs < newestSource) {
      throw new Error(`${file} is ${built === undefined ? 'missing' : 'older than src/'}: run \`npm run build\` first`);
    }
  }
  return { entry: join(ROOT, BUNDLE_ENTRIES[0]!), node: usePeers().binaries.imageNode };
}
