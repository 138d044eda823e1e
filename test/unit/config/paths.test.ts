import { describe, expect, it } from 'vitest';
import { checkFilePath, checkUniquePaths, translatePath, unsafePathReason } from '../../../src/config/paths.js';
import { ProviderError } from '../../../src/errors.js';

describe('translatePath', () => {
  it.each([
    ['MySecret', '_', 'MySecret'],
    ['/app/db/pass', '_', '_app_db_pass'],
    ['a/b', '.', 'a.b'],
    ['a/b', false, 'a/b'],
    ['/app/db', false, 'app/db'],
    ['//app', false, 'app'],
  ] as const)('%s with %s is %s', (name, translation, expected) => {
    expect(translatePath(name, translation)).toBe(expected);
  });
});

describe('unsafePathReason', () => {
  it.each(['a', 'a/b', 'a.b', '..a', 'a..', '.hidden', 'x'.repeat(255), `${'d/'.repeat(100)}f`])(
    '%s is safe',
    (path) => expect(unsafePathReason(path)).toBeUndefined(),
  );

  it.each([
    ['', 'empty'],
    ['/a', 'absolute'],
    ['a/', 'empty element'],
    ['a//b', 'empty element'],
    ['.', '"." element'],
    ['a/./b', '"." element'],
    ['..', '".." element'],
    ['a/../b', '".." element'],
    ['a\0b', 'U+0000'],
    ['x'.repeat(256), 'longer than 255 bytes'],
    ['é'.repeat(128), 'longer than 255 bytes'],
    [`${'d'.repeat(200)}/`.repeat(21).slice(0, -1), 'longer than 4096 bytes'],
  ])('%j is unsafe: %s', (path, reason) => {
    expect(unsafePathReason(path)).toContain(reason);
  });
});

describe('checkFilePath', () => {
  it('names the owner, the field and the fix', () => {
    try {
      checkFilePath({ path: '../x', owner: 'objects[3] "s"' }, 'objectAlias');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ProviderError);
      expect((err as Error).message).toContain('objects[3] "s": the file path "../x" (from objectAlias)');
      expect((err as Error).message).toContain('Set an objectAlias');
    }
  });
});

describe('checkUniquePaths', () => {
  it('accepts distinct files and files in one directory', () => {
    expect(() =>
      checkUniquePaths([
        { path: 'a/x', owner: 'A' },
        { path: 'a/y', owner: 'B' },
        { path: 'b', owner: 'C' },
      ]),
    ).not.toThrow();
  });

  it('names both owners of a duplicate', () => {
    expect(() => checkUniquePaths([{ path: 'x', owner: 'A' }, { path: 'y', owner: 'C' }, { path: 'x', owner: 'B' }])).toThrow(
      'A and B both write file "x". Set a distinct objectAlias on one of them.',
    );
  });

  it('rejects a file where another needs a directory, in either order', () => {
    const message = 'A writes file "a" where B needs a directory for "a/b/c"';
    expect(() => checkUniquePaths([{ path: 'a', owner: 'A' }, { path: 'a/b/c', owner: 'B' }])).toThrow(message);
    expect(() => checkUniquePaths([{ path: 'a/b/c', owner: 'B' }, { path: 'a', owner: 'A' }])).toThrow(message);
  });
});
