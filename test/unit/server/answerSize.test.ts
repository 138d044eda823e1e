import { describe, expect, it } from 'vitest';
import { checkAnswerSize } from '../../../src/mount/answerLimit.js';
import { ProviderError } from '../../../src/errors.js';
import { encodedMountResponseSize } from '../../../src/server/answerSize.js';
import { loadProviderService, type MountResponseMessage } from '../../../src/server/proto.js';
import type { ObjectSpec } from '../../../src/config/types.js';

const serialize = loadProviderService().Mount!.responseSerialize as (response: MountResponseMessage) => Buffer;

const file = (path: string, bytes: number, mode = 420) => ({ path, mode, contents: Buffer.alloc(bytes, 0x61) });

const cases: { name: string; response: MountResponseMessage }[] = [
  { name: 'no files', response: { files: [], objectVersion: [], error: null } },
  { name: 'empty fields', response: { files: [file('', 0, 0)], objectVersion: [{ id: '', version: '' }], error: null } },
  {
    name: 'multi-byte names, large contents, an error code',
    response: { files: [file('dir/ünïcode-名前', 70_000, 511)], objectVersion: [{ id: 'dir/ünïcode-名前', version: 'v'.repeat(300) }], error: { code: 'x' } },
  },
  {
    name: '100 aliases of a 64 KiB secret',
    response: {
      files: Array.from({ length: 100 }, (_, i) => file(`alias-${i}`, 65_536)),
      objectVersion: Array.from({ length: 100 }, (_, i) => ({ id: `alias-${i}`, version: '00000000-0000-4000-8000-000000000001' })),
      error: null,
    },
  },
];

describe('encodedMountResponseSize', () => {
  it.each(cases)('equals the encoded length: $name', ({ response }) => {
    expect(encodedMountResponseSize(response)).toBe(serialize(response).length);
  });
});

const spec = (index: number, name: string, fileName: string, aliases: string[] = []): ObjectSpec => ({
  index,
  objectType: 'secretsmanager',
  primary: { objectName: name },
  fileName,
  mode: 420,
  jmesPath: aliases.map((alias) => ({ path: 'a', fileName: alias, objectAlias: alias, mode: 420 })),
});

describe('checkAnswerSize', () => {
  const big = cases[3]!.response;
  const objects = [spec(0, 'big-secret', 'big-secret', big.files.map((f) => f.path))];

  it('passes an answer at the limit', () => {
    expect(() => checkAnswerSize(big, objects, encodedMountResponseSize(big))).not.toThrow();
  });

  it('refuses an answer over the limit, naming the largest files, their objects, sizes and the limit', () => {
    const limit = 4 * 1024 * 1024;
    let error: unknown;
    try {
      checkAnswerSize(big, objects, limit);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ProviderError);
    const { code, message } = error as ProviderError;
    expect(code).toBe('InvalidSecretProviderClass');
    expect(message).toContain(`${encodedMountResponseSize(big).toLocaleString('en-US')} bytes encoded`);
    expect(message).toContain('4,194,304 bytes');
    expect(message).toContain('--max-answer-size');
    expect(message).toContain('"alias-0" (65,536 bytes from objects[0] "big-secret")');
    expect(message).toContain('and 95 more');
    expect(message).not.toContain('aaaa');
  });
});
