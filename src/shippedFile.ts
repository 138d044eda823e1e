import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Files shipped beside the code (the proto, package.json) sit at the package root; from src/, dist/src/ or a
 * bundle, walk up until the file is found.
 */
export function findShippedFile(relativePath: string, from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, relativePath);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error(`cannot find ${relativePath} above ${from}`);
  }
}

export interface ProviderVersion {
  name: string;
  version: string;
}

export function readProviderVersion(): ProviderVersion {
  const pkg = JSON.parse(readFileSync(findShippedFile('package.json'), 'utf8')) as { name: string; version: string };
  return { name: pkg.name, version: pkg.version };
}
