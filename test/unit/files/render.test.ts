import { describe, expect, it } from 'vitest';
import type { ObjectSpec } from '../../../src/config/types.js';
import { renderFiles } from '../../../src/files/render.js';

const plain: ObjectSpec = {
  index: 0,
  objectType: 'ssmparameter',
  primary: { objectName: '/app/token' },
  fileName: '_app_token',
  mode: 0o600,
  jmesPath: [],
};
const withKeys: ObjectSpec = {
  index: 1,
  objectType: 'secretsmanager',
  primary: { objectName: 'db' },
  fileName: 'db',
  mode: 0o644,
  jmesPath: [
    { path: 'username', objectAlias: 'dbuser', fileName: 'dbuser', mode: 0o644 },
    { path: 'password', objectAlias: 'dbpass', fileName: 'dbpass', mode: 0o400 },
  ],
};

describe('renderFiles', () => {
  it('writes each whole value, each jmesPath entry, and a version per file', () => {
    const rendered = renderFiles(
      [
        { spec: plain, value: Buffer.from('tok'), version: '3' },
        { spec: withKeys, value: Buffer.from('{"username":"u","password":"p"}'), version: 'ver-uuid-1' },
      ],
      [[], [Buffer.from('u'), Buffer.from('p')]],
    );
    expect(rendered.files.map(({ path, mode, contents }) => [path, mode, contents.toString()])).toEqual([
      ['_app_token', 0o600, 'tok'],
      ['db', 0o644, '{"username":"u","password":"p"}'],
      ['dbuser', 0o644, 'u'],
      ['dbpass', 0o400, 'p'],
    ]);
    expect(rendered.versions).toEqual([
      { id: '_app_token', version: '3' },
      { id: 'db', version: 'ver-uuid-1' },
      { id: 'dbuser', version: 'ver-uuid-1' },
      { id: 'dbpass', version: 'ver-uuid-1' },
    ]);
  });

  it('passes binary values through untouched', () => {
    const value = Buffer.from([0, 1, 254, 255]);
    expect(renderFiles([{ spec: plain, value, version: '1' }], []).files[0]?.contents).toEqual(value);
  });
});
