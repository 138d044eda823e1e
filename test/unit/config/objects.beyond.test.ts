/** The object keys beyond ASCP's: objectEncoding, jsonKeys, and wildcard objectNames (docs/objects.md). */
import { describe, expect, it } from 'vitest';
import { invalid, parse } from './request.js';

const objects = (yaml: string, more: Record<string, string> = {}) => parse({ objects: yaml, ...more }).objects;

describe('objectEncoding', () => {
  it('is utf-8 (as stored) unless it says base64 or hex, in any case, on an object and on a jmesPath entry', () => {
    const [plain, utf8, base64, hex] = objects(
      [
        '- {objectName: a, objectType: secretsmanager}',
        '- {objectName: b, objectType: secretsmanager, objectEncoding: UTF-8}',
        '- {objectName: c, objectType: secretsmanager, objectEncoding: Base64}',
        '- objectName: d',
        '  objectType: ssmparameter',
        '  objectEncoding: hex',
        '  jmesPath: [{path: key, objectAlias: key.jks, objectEncoding: base64}, {path: cert, objectAlias: cert}]',
      ].join('\n'),
    );
    expect(plain).not.toHaveProperty('encoding');
    expect(utf8).not.toHaveProperty('encoding');
    expect(base64?.encoding).toBe('base64');
    expect(hex?.encoding).toBe('hex');
    expect(hex?.jmesPath.map((entry) => entry.encoding)).toEqual(['base64', undefined]);
  });

  it('refuses another word, naming the object (or entry) and the encodings it takes', () => {
    const error = invalid(() => objects('- {objectName: a, objectType: secretsmanager, objectEncoding: base32}'));
    expect(error.message).toContain('objects[0] "a": objectEncoding "base32" is not an encoding');
    expect(error.message).toContain('utf-8');
    const entry = invalid(() =>
      objects('- {objectName: a, objectType: secretsmanager, jmesPath: [{path: k, objectAlias: k, objectEncoding: b64}]}'),
    );
    expect(entry.message).toContain('objects[0] "a" jmesPath[0]: objectEncoding "b64"');
  });
});

describe('jsonKeys', () => {
  it('makes the alias (or the name) a directory that no other file may be in or at', () => {
    const [spec] = objects('- {objectName: prod/db, objectType: secretsmanager, objectAlias: db, jsonKeys: all}');
    expect(spec).toMatchObject({ fileName: 'db', jsonKeys: { translation: '_' } });
    const [unaliased] = objects('- {objectName: prod/db, objectType: secretsmanager, jsonKeys: ALL}', { pathTranslation: 'False' });
    expect(unaliased).toMatchObject({ fileName: 'prod/db', jsonKeys: { translation: false } });

    const inside = invalid(() =>
      objects(
        '- {objectName: a, objectType: secretsmanager, objectAlias: db, jsonKeys: all}\n- {objectName: b, objectType: secretsmanager, objectAlias: db/user}',
        { pathTranslation: 'False' },
      ),
    );
    expect(inside.message).toContain('objects[0] "a" writes every file of directory "db", where objects[1] "b" writes file "db/user"');
    const at = invalid(() =>
      objects('- {objectName: a, objectType: secretsmanager, objectAlias: db, jsonKeys: all}\n- {objectName: b, objectType: secretsmanager, objectAlias: db}'),
    );
    expect(at.message).toContain('objects[0] "a" and objects[1] "b" both write directory "db"');
  });

  it('takes only "all"', () => {
    const error = invalid(() => objects('- {objectName: a, objectType: secretsmanager, jsonKeys: "true"}'));
    expect(error.message).toContain('objects[0] "a": jsonKeys "true" is not a choice. Write jsonKeys: all');
  });
});

describe('wildcard objectNames', () => {
  it('reads /path/* and /path/** as GetParametersByPath, one level or any depth, named below the path', () => {
    const [one, any, root] = objects(
      [
        '- {objectName: /app/prod/*, objectType: ssmparameter}',
        '- {objectName: /app/prod/**, objectType: ssmparameter, objectAlias: all, allowEmpty: "true"}',
        '- {objectName: /*, objectType: ssmparameter, objectAlias: root}',
      ].join('\n'),
    );
    expect(one).toMatchObject({ fileName: '_app_prod', wildcard: { prefix: '/app/prod/', recursive: false, allowEmpty: false } });
    expect(any).toMatchObject({ fileName: 'all', wildcard: { prefix: '/app/prod/', recursive: true, allowEmpty: true } });
    expect(root).toMatchObject({ fileName: 'root', wildcard: { prefix: '/', recursive: false } });
  });

  it('reads a secret prefix with * or **, the directory named after the prefix', () => {
    const [spec] = objects('- {objectName: prod/app/*, objectType: secretsmanager}', { pathTranslation: 'False' });
    expect(spec).toMatchObject({ fileName: 'prod/app', wildcard: { prefix: 'prod/app/', recursive: false, translation: false } });
    // Fails over to the same wildcard in the failover region, as a plain name does.
    const [failover] = objects('- {objectName: prod/*, objectType: secretsmanager}', { failoverRegion: 'us-west-2' });
    expect(failover?.failover).toEqual({ objectName: 'prod/*' });
  });

  const bad: { name: string; yaml: string; mentions: string[] }[] = [
    { name: 'a * inside the name', yaml: '- {objectName: /app/*/db, objectType: ssmparameter}', mentions: ['objects[0] "/app/*/db"', 'does not end it', '/app/prod/*'] },
    { name: 'a parameter path without its leading /', yaml: '- {objectName: app/prod/*, objectType: ssmparameter}', mentions: ['objects[0] "app/prod/*"', 'starts and ends with "/"'] },
    { name: 'a parameter path not ending in /', yaml: '- {objectName: /app/prod*, objectType: ssmparameter}', mentions: ['objects[0] "/app/prod*"', 'starts and ends with "/"'] },
    { name: 'every secret', yaml: '- {objectName: "*", objectType: secretsmanager, objectAlias: all}', mentions: ['objects[0] "*"', 'needs a name prefix'] },
    { name: 'an ARN', yaml: '- {objectName: "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/*"}', mentions: ['objects[0]', 'takes a name, not an ARN'] },
    { name: 'with objectVersion', yaml: '- {objectName: prod/*, objectType: secretsmanager, objectVersion: v1}', mentions: ['objects[0] "prod/*": objectVersion cannot be used with a wildcard'] },
    { name: 'with a label', yaml: '- {objectName: /p/*, objectType: ssmparameter, objectVersionLabel: l}', mentions: ['objectVersionLabel cannot be used with a wildcard'] },
    { name: 'with jmesPath', yaml: '- {objectName: prod/*, objectType: secretsmanager, jmesPath: [{path: a, objectAlias: a}]}', mentions: ['jmesPath cannot be used with a wildcard'] },
    { name: 'with jsonKeys', yaml: '- {objectName: prod/*, objectType: secretsmanager, jsonKeys: all}', mentions: ['jsonKeys cannot be used with a wildcard'] },
    { name: 'allowEmpty on a plain name', yaml: '- {objectName: prod, objectType: secretsmanager, allowEmpty: "true"}', mentions: ['objects[0] "prod": allowEmpty applies to a wildcard'] },
    { name: 'allowEmpty not a boolean', yaml: '- {objectName: prod/*, objectType: secretsmanager, allowEmpty: maybe}', mentions: ['allowEmpty must be true or false'] },
    { name: 'the root path with translation off and no alias', yaml: '- {objectName: /*, objectType: ssmparameter}', mentions: ['objects[0] "/*"', 'it is empty', 'objectAlias'] },
  ];
  it.each(bad)('refuses $name, naming the object and the field', ({ yaml, mentions }) => {
    const error = invalid(() => objects(yaml, { pathTranslation: 'False', region: 'us-east-1' }));
    for (const text of mentions) expect(error.message).toContain(text);
  });

  it('reads tags on a secret wildcard, a bare * among them', () => {
    const [spec] = objects('- {objectName: "*", objectType: secretsmanager, objectAlias: team, tags: {team: payments, env: ""}}');
    expect(spec?.wildcard).toMatchObject({ prefix: '', tags: [{ key: 'team', value: 'payments' }, { key: 'env', value: '' }] });
  });

  it.each([
    ['on a parameter wildcard', '- {objectName: /p/*, objectType: ssmparameter, tags: {a: b}}', 'tags apply to a secret wildcard only'],
    ['on a plain name', '- {objectName: p, objectType: secretsmanager, tags: {a: b}}', 'tags apply to a secret wildcard only'],
    ['as a list', '- {objectName: p/*, objectType: secretsmanager, tags: [a]}', 'tags must be a map of tag keys to values'],
    ['with a map value', '- {objectName: p/*, objectType: secretsmanager, tags: {a: {b: c}}}', 'tags "a" must be a tag key with a string value'],
  ])('refuses tags %s', (_name, yaml, says) => {
    expect(invalid(() => objects(yaml)).message).toContain(says);
  });

  it('refuses a failoverObject on a wildcard', () => {
    const error = invalid(() =>
      objects('- {objectName: prod/*, objectType: secretsmanager, objectAlias: p, failoverObject: {objectName: dr/*}}', {
        failoverRegion: 'us-west-2',
      }),
    );
    expect(error.message).toContain('objects[0] "prod/*": failoverObject cannot be used with a wildcard');
  });
});
