import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import type { JmesPathEntry, ObjectSpec } from '../../../src/config/types.js';
import { ProviderError } from '../../../src/errors.js';
import { extractJmesPath } from '../../../src/files/extract.js';

const SECRET = 'hunter2-very-secret';
const entry = (path: string, objectAlias = path.replace(/\W/g, '_')): JmesPathEntry => ({
  path,
  objectAlias,
  fileName: objectAlias,
  mode: 0o644,
});
const spec = (...paths: string[]): Pick<ObjectSpec, 'index' | 'primary' | 'jmesPath'> => ({
  index: 1,
  primary: { objectName: 'MySecret' },
  jmesPath: paths.map((path) => entry(path)),
});

// Built as text: a JavaScript literal could not hold the large number the secret's JSON has.
const VALUE = `{${JSON.stringify({
  username: 'admin',
  password: SECRET,
  port: 5432,
  ratio: 0.5,
  enabled: false,
  nested: { host: 'db', tags: ['a', 'b'] },
  empty: '',
  'db.host': 'dotted',
}).slice(1, -1)}, "big": 12345678901234567890}`;

function extract(value: string | Buffer, ...paths: string[]) {
  return extractJmesPath(spec(...paths), value).map(({ entry: e, contents }) => [e.fileName, contents.toString('utf8')]);
}

function failure(value: string, path: string): ProviderError {
  try {
    extract(value, path);
  } catch (err) {
    expect(err).toBeInstanceOf(ProviderError);
    const error = err as ProviderError;
    expect(error.grpcStatus).toBe(status.INVALID_ARGUMENT);
    expect(error.code).toBe('InvalidObjectValue');
    expect(error.message).toContain('objects[1] "MySecret"');
    expect(error.message).not.toContain(SECRET);
    expect(error.cause).toBeUndefined();
    return error;
  }
  throw new Error('expected an error');
}

describe('extractJmesPath', () => {
  it('writes a string as is, other types as JSON text', () => {
    expect(extract(VALUE, 'username', 'port', 'ratio', 'enabled', 'nested', 'nested.tags', 'empty', '"db.host"')).toEqual([
      ['username', 'admin'],
      ['port', '5432'],
      ['ratio', '0.5'],
      ['enabled', 'false'],
      ['nested', '{"host":"db","tags":["a","b"]}'],
      ['nested_tags', '["a","b"]'],
      ['empty', ''],
      ['_db_host_', 'dotted'],
    ]);
  });

  it('reads a Buffer value as UTF-8', () => {
    expect(extract(Buffer.from('{"k":"välue"}'), 'k')).toEqual([['k', 'välue']]);
  });

  it('does not parse a value without jmesPath entries (binary secrets are fine)', () => {
    expect(extractJmesPath(spec(), Buffer.from([0xff, 0x00]))).toEqual([]);
  });

  it('rejects a value that is not JSON, without quoting it', () => {
    const error = failure(`password=${SECRET}`, 'password');
    expect(error.message).toContain('its value is not JSON');
    expect(error.message).toContain('remove jmesPath');
  });

  it('rejects a path that finds nothing, naming the path', () => {
    const error = failure(VALUE, 'Username');
    expect(error.message).toContain('jmesPath[0] path "Username"');
    expect(error.message).toContain('found nothing');
    expect(error.message).toContain('case-sensitive');
  });

  it('rejects a JSON null as nothing found', () => {
    expect(failure('{"a": null}', 'a').message).toContain('found nothing');
  });

  it('rejects a runtime type error with the library reason, not the value', () => {
    const error = failure(VALUE, 'abs(password)');
    expect(error.message).toContain('path "abs(password)"');
    expect(error.message).toContain('TypeError');
  });

  it('rejects a number that JSON.parse cannot hold exactly', () => {
    expect(failure(VALUE, 'big').message).toContain('too large to write exactly');
    expect(failure(VALUE, '{b: big}').message).toContain('too large');
  });
});
