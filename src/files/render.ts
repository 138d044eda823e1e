import { memberFiles, type PreparedObject } from './members.js';

export interface RenderedFile {
  path: string;
  mode: number;
  contents: Buffer;
}

export interface RenderedVersion {
  id: string;
  version: string;
}

/** An object as fetched (the version is that of the value actually fetched, primary or failover), then prepared. */
export type FetchedObject = PreparedObject;

/**
 * The MountResponse files and versions. Every object writes its whole value (ASCP does this with jmesPath
 * too: example 02 mounts the secret and its two keys), or its members' files, each with its own version; each
 * jmesPath entry adds a file that carries its parent's version. A version's id is the file path, so the driver sees one entry per file. `extracted` holds each
 * object's jmesPath files, in its entries' order (JmesPathExtractor).
 */
export function renderFiles(
  objects: readonly FetchedObject[],
  extracted: readonly (readonly Buffer[])[],
): { files: RenderedFile[]; versions: RenderedVersion[] } {
  const files: RenderedFile[] = [];
  const versions: RenderedVersion[] = [];
  for (const [i, { spec, value, version, members }] of objects.entries()) {
    // A wildcard's matches and a JSON value's keys are files of the directory the entry's file name names.
    const own = members ? memberFiles(spec, members) : [{ path: spec.fileName, member: { value, version } }];
    for (const { path, member } of own) {
      files.push({ path, mode: spec.mode, contents: member.value });
      versions.push({ id: path, version: member.version });
    }
    for (const [j, entry] of spec.jmesPath.entries()) {
      const contents = extracted[i]?.[j];
      if (contents === undefined) throw new Error(`no extracted file for objects[${spec.index}] jmesPath[${j}]`);
      files.push({ path: entry.fileName, mode: entry.mode, contents });
      versions.push({ id: entry.fileName, version });
    }
  }
  return { files, versions };
}
