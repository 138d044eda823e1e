import type { ObjectSpec } from '../config/types.js';

export interface RenderedFile {
  path: string;
  mode: number;
  contents: Buffer;
}

export interface RenderedVersion {
  id: string;
  version: string;
}

export interface FetchedObject {
  spec: ObjectSpec;
  value: Buffer;
  /** The version of the value actually fetched (primary or failover). */
  version: string;
}

/**
 * The MountResponse files and versions. Every object writes its whole value (ASCP does this with jmesPath
 * too: example 02 mounts the secret and its two keys); each jmesPath entry adds a file that carries its
 * parent's version. A version's id is the file path, so the driver sees one entry per file. `extracted` holds each
 * object's jmesPath files, in its entries' order (JmesPathExtractor).
 */
export function renderFiles(
  objects: readonly FetchedObject[],
  extracted: readonly (readonly Buffer[])[],
): { files: RenderedFile[]; versions: RenderedVersion[] } {
  const files: RenderedFile[] = [];
  const versions: RenderedVersion[] = [];
  for (const [i, { spec, value, version }] of objects.entries()) {
    files.push({ path: spec.fileName, mode: spec.mode, contents: value });
    versions.push({ id: spec.fileName, version });
    for (const [j, entry] of spec.jmesPath.entries()) {
      const contents = extracted[i]?.[j];
      if (contents === undefined) throw new Error(`no extracted file for objects[${spec.index}] jmesPath[${j}]`);
      files.push({ path: entry.fileName, mode: entry.mode, contents });
      versions.push({ id: entry.fileName, version });
    }
  }
  return { files, versions };
}
