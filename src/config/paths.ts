import { invalidSpc } from '../errors.js';
import { firstDeceptiveCharacter } from '../visibleText.js';

/** The `pathTranslation` setting: the character that replaces `/`, or false to keep `/` as directories. */
export type PathTranslation = string | false;

const MAX_ELEMENT_BYTES = 255;
const MAX_PATH_BYTES = 4096;

/**
 * The file path for a name or alias. With translation on, every `/` becomes the translation character, so the
 * name is one file. With translation off, `/` separates directories and leading slashes are dropped (as ASCP
 * does), so the SSM name `/app/db/password` becomes `app/db/password` rather than an absolute path.
 */
export function translatePath(name: string, translation: PathTranslation): string {
  if (translation === false) return name.replace(/^\/+/, '');
  return name.replaceAll('/', translation);
}

/**
 * Why a path cannot be handed to the driver, or undefined if it can. The driver checks the same rules
 * (relative, `filepath.Clean(p) == p`, elements ≤255 bytes, path ≤4096 bytes) and would fail the whole mount
 * with a message that names no object; checking here lets the error say which object and how to fix it. Control,
 * invisible and direction-changing characters are refused too: the driver would write them, and `ls` and pod
 * events would show another name.
 */
export function unsafePathReason(path: string): string | undefined {
  if (path === '') return 'it is empty';
  const deceptive = firstDeceptiveCharacter(path);
  if (deceptive !== undefined) {
    return `it contains ${deceptive}, a control, invisible or direction-changing character that would disguise the name`;
  }
  if (path.startsWith('/')) return 'it is absolute (starts with "/")';
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) return `it is longer than ${MAX_PATH_BYTES} bytes`;
  for (const element of path.split('/')) {
    if (element === '') return 'it has an empty element ("//" or a trailing "/")';
    if (element === '.' || element === '..') return `it has a "${element}" element`;
    if (Buffer.byteLength(element) > MAX_ELEMENT_BYTES) return `it has an element longer than ${MAX_ELEMENT_BYTES} bytes`;
  }
  return undefined;
}

/** One file a Mount will write, and who asked for it (for messages): `objects[0] "A"` or `… jmesPath[1]`. */
export interface PlannedFile {
  path: string;
  owner: string;
  /**
   * The path is a directory whose files are known only once fetched (a wildcard's matches, a JSON value's keys): no
   * other file may be at it or below it.
   */
  directory?: boolean;
}

/** Throws unless the path is safe; the message names the owner and the field that produced the path. */
export function checkFilePath(file: PlannedFile, field: string): void {
  const reason = unsafePathReason(file.path);
  if (reason !== undefined) {
    throw invalidSpc(
      `${file.owner}: the file path "${file.path}" (from ${field}) is not a safe relative path: ${reason}. ` +
        'Set an objectAlias that is a plain relative file name.',
    );
  }
}

function writes(file: PlannedFile): string {
  return `${file.directory ? 'directory' : 'file'} "${file.path}"`;
}

/**
 * Every file of one Mount must have its own path, and no file may sit where another needs a directory
 * (`a` and `a/b` with translation off): the driver writes the set atomically and would fail it whole. A directory
 * claimed whole (PlannedFile.directory) holds no file of another owner.
 */
export function checkUniquePaths(files: readonly PlannedFile[]): void {
  const byPath = new Map<string, PlannedFile>();
  for (const file of files) {
    const other = byPath.get(file.path);
    if (other) {
      throw invalidSpc(
        `${other.owner} and ${file.owner} both write ${writes(other.directory ? other : file)}. ` +
          'Set a distinct objectAlias on one of them.',
      );
    }
    byPath.set(file.path, file);
  }
  for (const file of files) {
    const elements = file.path.split('/');
    for (let end = 1; end < elements.length; end++) {
      const dir = byPath.get(elements.slice(0, end).join('/'));
      if (dir?.directory) {
        throw invalidSpc(
          `${dir.owner} writes every file of directory "${dir.path}", where ${file.owner} writes ${writes(file)}. ` +
            'Set a distinct objectAlias on one of them.',
        );
      }
      if (dir) {
        throw invalidSpc(
          `${dir.owner} writes file "${dir.path}" where ${file.owner} needs a directory for "${file.path}". ` +
            'Set a distinct objectAlias on one of them.',
        );
      }
    }
  }
}
