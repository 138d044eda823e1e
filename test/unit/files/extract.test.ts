import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import type { JmesPathEntry, ObjectSpec } from '../../../src/config/types.js';
import { ProviderError } from '../../../src/errors.js';
import { extractJmesPath, type Extraction } from '../../../src/files/extract.js';
import { JMESPATH_LIMITS, refusalError } from '../../../src/files/jmespathWorkers.js';

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

/** The files, or the refusal as the Mount's error (as the worker's caller makes it). */
function filesOf(extraction: Extraction): Buffer[] {
  if ('refused' in extraction) throw refusalError(extraction.refused);
  return extraction.files;
}

function extract(value: string | Buffer, ...paths: string[]) {
  const files = filesOf(extractJmesPath(spec(...paths), value, JMESPATH_LIMITS.budgets));
  return files.map((contents, i) => [paths[i]?.replace(/\W/g, '_'), contents.toString('utf8')]);
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
    expect(extractJmesPath(spec(), Buffer.from([0xff, 0x00]), JMESPATH_LIMITS.budgets)).toEqual({ files: [] });
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

  it('refuses a result past the value budget as the SecretProviderClass\'s fault, naming object, path and budget', () => {
    const path = Array.from({ length: 40 }, () => '[@,@]').join(' | ');
    const extraction = extractJmesPath(spec(path), '{"a":1}', JMESPATH_LIMITS.budgets);
    expect(extraction).toEqual({ refused: { code: 'InvalidSecretProviderClass', message: expect.any(String) as string } });
    const { message } = (extraction as { refused: { message: string } }).refused;
    expect(message).toContain(`objects[1] "MySecret" jmesPath[0] path "${path.slice(0, 100)}`);
    expect(message).toContain(`more than ${JMESPATH_LIMITS.budgets.maxValues} JSON values`);
  });

  it('refuses a result past the byte budget, however few its values', () => {
    // Each copy is 760,000 bytes, under the budget.
    const value = JSON.stringify({ username: 'admin', password: SECRET.repeat(40_000) });
    const extraction = extractJmesPath(spec('username', 'password', '[password, password]'), value, JMESPATH_LIMITS.budgets);
    expect(extraction).toMatchObject({ refused: { code: 'InvalidSecretProviderClass' } });
    const { message } = (extraction as { refused: { message: string } }).refused;
    expect(message).toContain('jmesPath[2] path "[password, password]"');
    expect(message).toContain(`more than ${JMESPATH_LIMITS.budgets.maxBytes} bytes`);
    expect(message).not.toContain(SECRET);
  });

  it('refuses an evaluation that outgrows what JavaScript holds as the SecretProviderClass\'s fault', () => {
    // Each flatten doubles a real array, until the library's push.apply runs out of stack.
    const path = Array.from({ length: 40 }, () => '[@,@][]').join(' | ');
    const extraction = extractJmesPath(spec(path), '{"a":1}', JMESPATH_LIMITS.budgets);
    expect(extraction).toMatchObject({ refused: { code: 'InvalidSecretProviderClass' } });
    expect((extraction as { refused: { message: string } }).refused.message).toMatch(
      /jmesPath\[0\] path "\[@,@\]\[\] \| .*outgrew what an evaluation can hold \(RangeError: Maximum call stack size exceeded\)/,
    );
  });

  it('says which entry it is about to evaluate', () => {
    const seen: number[] = [];
    filesOf(extractJmesPath(spec('username', 'port', 'nested'), VALUE, JMESPATH_LIMITS.budgets, (i) => seen.push(i)));
    expect(seen).toEqual([0, 1, 2]);
  });
});
