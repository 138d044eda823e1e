import { describe, expect, it } from 'vitest';
import type { ObjectSpec } from '../../../src/config/types.js';
import { ProviderError } from '../../../src/errors.js';
import { decodeText } from '../../../src/files/decode.js';
import { extractJmesPath } from '../../../src/files/extract.js';
import { JMESPATH_LIMITS } from '../../../src/files/jmespathWorkers.js';
import { prepareObjects } from '../../../src/files/members.js';
import { renderFiles } from '../../../src/files/render.js';

const LIMITS = { maxFiles: 5, budgets: JMESPATH_LIMITS.budgets };
const spec = (more: Partial<ObjectSpec>): ObjectSpec => ({
  index: 0,
  objectType: 'secretsmanager',
  primary: { objectName: 'app' },
  fileName: 'app',
  mode: 0o640,
  jmesPath: [],
  ...more,
});

function refusal(fn: () => unknown): ProviderError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ProviderError);
    return err as ProviderError;
  }
  throw new Error('expected a refusal');
}

describe('decodeText', () => {
  it('decodes base64 (standard or URL-safe, padded or not, lines wrapped) and hex (any case, wrapped)', () => {
    const bytes = Buffer.from([0xfb, 0xff, 0x00, 0x10, 0x3e]);
    expect(decodeText('+/8AED4=', 'base64')).toEqual(bytes);
    expect(decodeText('-_8AED4', 'base64')).toEqual(bytes);
    expect(decodeText(Buffer.from('+/8A\nED4=\n'), 'base64')).toEqual(bytes);
    expect(decodeText('fbff00\n103E', 'hex')).toEqual(bytes);
    expect(decodeText('', 'base64')).toEqual(Buffer.alloc(0));
  });

  it('refuses what Node would decode into other bytes without a word', () => {
    for (const text of ['not base64!', 'abcde', 'ab=c', 'YQ=', 'YQ===', 'é']) expect(decodeText(text, 'base64'), text).toBeUndefined();
    for (const text of ['abc', 'zz', '0x10']) expect(decodeText(text, 'hex'), text).toBeUndefined();
  });
});

describe('prepareObjects and renderFiles', () => {
  it('decodes a string value, leaves a binary secret alone, and names the object and encoding when it does not decode', () => {
    const [text, binary] = prepareObjects(
      [
        { spec: spec({ encoding: 'base64' }), value: Buffer.from('AAEC'), version: 'v' },
        { spec: spec({ encoding: 'base64' }), value: Buffer.from([0, 1, 2]), version: 'v', binary: true },
      ],
      LIMITS,
    );
    expect(text?.value).toEqual(Buffer.from([0, 1, 2]));
    expect(binary?.value).toEqual(Buffer.from([0, 1, 2]));
    const error = refusal(() => prepareObjects([{ spec: spec({ encoding: 'hex' }), value: Buffer.from('s3cr3t-value'), version: 'v' }], LIMITS));
    expect(error.code).toBe('InvalidObjectValue');
    expect(error.message).toContain('objects[0] "app": its value is not hexadecimal text, so objectEncoding hex cannot decode it');
    expect(error.message).not.toContain('s3cr3t');
  });

  it('writes each top-level key of a jsonKeys object in its directory, with the object version and mode', () => {
    const keys = spec({ jsonKeys: { translation: '_' }, jmesPath: [{ path: 'user', objectAlias: 'u', fileName: 'u', mode: 0o600 }] });
    const value = Buffer.from(JSON.stringify({ user: 'admin', port: 5432, 'a/b': { x: [true] } }));
    const prepared = prepareObjects([{ spec: keys, value, version: 'v7' }], LIMITS);
    const { files, versions } = renderFiles(prepared, [[Buffer.from('admin')]]);
    expect(files.map((f) => [f.path, f.contents.toString(), f.mode.toString(8)])).toEqual([
      ['app/user', 'admin', '640'],
      ['app/port', '5432', '640'],
      ['app/a_b', '{"x":[true]}', '640'],
      ['u', 'admin', '600'],
    ]);
    expect(versions).toEqual(files.map((f) => ({ id: f.path, version: 'v7' })));
  });

  const jsonKeys = (value: string, translation: '_' | false = '_') =>
    refusal(() => renderFiles(prepareObjects([{ spec: spec({ jsonKeys: { translation } }), value: Buffer.from(value), version: 'v' }], LIMITS), [[]]));

  it('refuses a value that is not a JSON object, or has no key, naming the object and never the value', () => {
    expect(jsonKeys('hunter2').message).toContain('objects[0] "app": its value is not JSON, not a JSON object, so jsonKeys');
    expect(jsonKeys('["hunter2"]').message).toContain('its value is a JSON array');
    expect(jsonKeys('{}').message).toContain('its JSON object has no keys');
    expect(jsonKeys('["hunter2"]').message).not.toContain('hunter2');
  });

  it('refuses keys that are no safe file name, or that become one file, naming the keys and not the values', () => {
    expect(jsonKeys('{"..":"hunter2"}', false).message).toMatch(/key "\.\." is not a safe file name .*"\.\." element/);
    expect(jsonKeys('{"":"hunter2"}').message).toContain('key "" is not a safe file name');
    expect(jsonKeys('{"a\\u202eb":"hunter2"}').message).toContain('U+202E');
    const clash = jsonKeys('{"a/b":"hunter2","a_b":"x"}');
    expect(clash.code).toBe('InvalidObjectValue');
    expect(clash.message).toContain('keys "a/b" and "a_b" both become file "a_b"');
    expect(jsonKeys('{"a":"1","a/b":"2"}', false).message).toContain('key "a" is a file where key "a/b" needs a directory');
    expect(clash.message).not.toContain('hunter2');
  });

  it('refuses more keys than --max-files-per-entry', () => {
    const error = jsonKeys(JSON.stringify(Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`k${i}`, i]))));
    expect(error.code).toBe('InvalidSecretProviderClass');
    expect(error.message).toContain('has 6 keys, more than the 5 files one objects entry may write (--max-files-per-entry)');
  });

  it('writes a wildcard\'s matches as files of its directory, each with its own version, decoded', () => {
    const wildcard = spec({ objectType: 'ssmparameter', encoding: 'hex', wildcard: { prefix: '/app', recursive: true, allowEmpty: false, translation: '_' } });
    const members = [
      { name: 'db/pass', value: Buffer.from('6869'), version: '3' },
      { name: 'token', value: Buffer.from('00ff'), version: '1' },
    ];
    const { files, versions } = renderFiles(prepareObjects([{ spec: wildcard, value: Buffer.alloc(0), version: '', members }], LIMITS), [[]]);
    expect(files.map((f) => [f.path, f.contents])).toEqual([['app/db_pass', Buffer.from('hi')], ['app/token', Buffer.from([0, 255])]]);
    expect(versions).toEqual([{ id: 'app/db_pass', version: '3' }, { id: 'app/token', version: '1' }]);
  });
});

describe('a jmesPath entry with objectEncoding', () => {
  const entrySpec = spec({ jmesPath: [{ path: 'ks', objectAlias: 'ks.jks', fileName: 'ks.jks', mode: 0o600, encoding: 'base64' }] });
  it('decodes the string it selects', () => {
    expect(extractJmesPath(entrySpec, JSON.stringify({ ks: 'AP8=' }), JMESPATH_LIMITS.budgets)).toEqual({ files: [Buffer.from([0, 255])] });
  });
  it('refuses a selection that is not a string, or not base64, naming the entry and never the value', () => {
    const notString = extractJmesPath(entrySpec, JSON.stringify({ ks: { a: 'hunter2' } }), JMESPATH_LIMITS.budgets);
    expect(notString).toMatchObject({ refused: { code: 'InvalidObjectValue' } });
    expect(JSON.stringify(notString)).toContain('selects a JSON object, not a string, so objectEncoding base64 cannot decode it');
    const notBase64 = extractJmesPath(entrySpec, JSON.stringify({ ks: 'hunter2!' }), JMESPATH_LIMITS.budgets);
    expect(JSON.stringify(notBase64)).toContain('jmesPath[0] path \\"ks\\" (objectAlias \\"ks.jks\\") selects a string that is not base64');
    expect(JSON.stringify(notBase64)).not.toContain('hunter2');
  });
});
