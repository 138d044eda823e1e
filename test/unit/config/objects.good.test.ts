import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { checkArnRegions } from '../../../src/config/objects.js';
import type { ObjectSpec } from '../../../src/config/types.js';
import { invalid, parse } from './request.js';

const SPC_DIR = join(import.meta.dirname, '../../fixtures/spc');

/** The parameters of an example SecretProviderClass, as the driver passes them in the attributes. */
function exampleParameters(file: string): Record<string, string> {
  const spc = parseYaml(readFileSync(join(SPC_DIR, file), 'utf8')) as { spec: { parameters: Record<string, string> } };
  return spc.spec.parameters;
}

const MODE = 0o644;
const sm = (index: number, objectName: string, more: Partial<ObjectSpec> = {}): ObjectSpec => ({
  index,
  objectType: 'secretsmanager',
  primary: { objectName },
  fileName: objectName,
  mode: MODE,
  jmesPath: [],
  ...more,
});

describe('the user guide examples parse into the expected objects', () => {
  it('01: by name or ARN', () => {
    const arn = 'arn:aws:secretsmanager:us-east-2:111122223333:secret:MySecret2-d4e5f6';
    const config = parse(exampleParameters('01-by-name-or-arn.yaml'));
    expect(config.objects).toEqual([
      sm(0, arn),
      sm(1, 'MySecret3'),
      sm(2, 'MySecret4', { primary: { objectName: 'MySecret4', objectVersionLabel: 'AWSCURRENT' } }),
    ]);
    expect(config.warnings).toEqual([]);
  });

  it('02: key-value pairs by jmesPath, with the whole secret too', () => {
    const arn = 'arn:aws:secretsmanager:us-east-2:111122223333:secret:MySecret-a1b2c3';
    const config = parse(exampleParameters('02-key-value-pairs.yaml'));
    expect(config.objects).toEqual([
      sm(0, arn, {
        jmesPath: [
          { path: 'username', objectAlias: 'dbusername', fileName: 'dbusername', mode: MODE },
          { path: 'password', objectAlias: 'dbpassword', fileName: 'dbpassword', mode: MODE },
        ],
      }),
    ]);
  });

  it('03: failover region, the same name in both regions (objectType assumed, with a warning)', () => {
    const config = parse(exampleParameters('03-failover-region.yaml'));
    expect(config).toMatchObject({ region: 'us-east-1', failoverRegions: ['us-east-2'] });
    expect(config.objects).toEqual([sm(0, 'MySecret', { failover: { objectName: 'MySecret' } })]);
    expect(config.warnings).toHaveLength(1);
    expect(config.warnings[0]).toContain('objects[0] "MySecret": no objectType');
    expect(config.warnings[0]).toContain('assuming secretsmanager');
  });

  it('04: a failover object given as a list of one', () => {
    const primary = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:MySecret-a1b2c3';
    const failover = 'arn:aws:secretsmanager:us-east-2:111122223333:secret:MyFailoverSecret-d4e5f6';
    const config = parse(exampleParameters('04-failover-object.yaml'));
    expect(config.objects).toEqual([sm(0, primary, { failover: { objectName: failover }, fileName: 'MyMountedSecret' })]);
  });

  it('05: the driver suite, with capitalised keys', () => {
    const config = parse(exampleParameters('05-driver-suite-basic.yaml'));
    expect(config.region).toBe('us-west-2');
    expect(config.objects).toEqual([
      sm(0, 'ParameterStoreTest1', { objectType: 'ssmparameter' }),
      sm(1, 'ParameterStoreTestWithLongName', { objectType: 'ssmparameter', fileName: 'ParameterStoreTest2' }),
      sm(2, 'SecretsManagerTest1'),
      sm(3, 'arn:aws:secretsmanager:us-west-2:111122223333:secret:SecretsManagerTest2', { fileName: 'SecretsManagerTest2' }),
      sm(4, 'SecretsManagerJson', {
        jmesPath: [{ path: 'username', objectAlias: 'dbuser', fileName: 'dbuser', mode: MODE }],
      }),
    ]);
  });
});

describe('objects: accepted forms', () => {
  const one = (objects: string, parameters: Record<string, string> = {}) => {
    const [spec] = parse({ ...parameters, objects }).objects;
    if (!spec) throw new Error('no object');
    return spec;
  };

  it('takes numbers where a string is expected, exactly as written', () => {
    const spec = one('- objectName: 2024\n  objectType: ssmparameter\n  objectVersion: 3');
    expect(spec.primary).toEqual({ objectName: '2024', objectVersion: '3' });
    expect(spec.fileName).toBe('2024');
  });

  it('keeps a YAML 1.1 boolean word as the string it is', () => {
    expect(one('- objectName: yes\n  objectType: secretsmanager').primary.objectName).toBe('yes');
  });

  it('reads filePermission quoted or not', () => {
    expect(one('- objectName: a\n  objectType: secretsmanager\n  filePermission: "0600"').mode).toBe(0o600);
    expect(one('- objectName: a\n  objectType: secretsmanager\n  filePermission: 0400').mode).toBe(0o400);
  });

  it('gives jmesPath files the object mode unless they set their own', () => {
    const spec = one(
      '- objectName: a\n  objectType: secretsmanager\n  filePermission: "0640"\n  jmesPath:\n' +
        '    - {path: u, objectAlias: u}\n    - {path: p, objectAlias: p, filePermission: "0400"}',
    );
    expect(spec.jmesPath.map((entry) => entry.mode)).toEqual([0o640, 0o400]);
  });

  it('matches every key in any case', () => {
    const spec = one(
      '- OBJECTNAME: /app/db\n  ObjectType: SSMParameter\n  objectalias: db\n  ObjectVersionLabel: prod\n' +
        '  FilePermission: "0600"\n  JMESPATH:\n    - PATH: host\n      OBJECTALIAS: dbhost',
    );
    expect(spec).toMatchObject({
      objectType: 'ssmparameter',
      primary: { objectName: '/app/db', objectVersionLabel: 'prod' },
      fileName: 'db',
      mode: 0o600,
      jmesPath: [{ path: 'host', objectAlias: 'dbhost', fileName: 'dbhost', mode: 0o600 }],
    });
  });

  it('takes the type of an SSM ARN', () => {
    const spec = one('- objectName: "arn:aws:ssm:us-east-1:111122223333:parameter/app/db"');
    expect(spec.objectType).toBe('ssmparameter');
    expect(spec.fileName).toBe('arn:aws:ssm:us-east-1:111122223333:parameter_app_db');
  });

  it('takes ARNs of other partitions', () => {
    const spec = one('- objectName: "arn:aws-us-gov:secretsmanager:us-gov-west-1:111122223333:secret:s"');
    expect(spec.objectType).toBe('secretsmanager');
  });

  it('treats empty optional fields as unset', () => {
    const spec = one('- objectName: a\n  objectType: secretsmanager\n  objectAlias: ""\n  objectVersion:\n  jmesPath:');
    expect(spec).toEqual(sm(0, 'a'));
  });

  it('translates / with the default character, the chosen one, or not at all', () => {
    const objects = '- objectName: /app/db/password\n  objectType: ssmparameter';
    expect(one(objects).fileName).toBe('_app_db_password');
    expect(one(objects, { pathTranslation: '-' }).fileName).toBe('-app-db-password');
    expect(one(objects, { pathTranslation: 'False' }).fileName).toBe('app/db/password');
  });

  it('translates jmesPath aliases too, as ASCP does', () => {
    const objects = '- objectName: a\n  objectType: secretsmanager\n  jmesPath:\n    - {path: u, objectAlias: db/user}';
    expect(one(objects).jmesPath[0]?.fileName).toBe('db_user');
    expect(one(objects, { pathTranslation: 'false' }).jmesPath[0]?.fileName).toBe('db/user');
  });

  it('lets files share a directory with translation off', () => {
    const config = parse({
      pathTranslation: 'False',
      objects: '- objectName: /app/db/user\n  objectType: ssmparameter\n- objectName: /app/db/pass\n  objectType: ssmparameter',
    });
    expect(config.objects.map((spec) => spec.fileName)).toEqual(['app/db/user', 'app/db/pass']);
  });

  it('fetches a replica from the failover region: an ARN moves region, a name stays', () => {
    const config = parse({
      region: 'us-east-1',
      failoverRegion: 'eu-west-1',
      objects:
        '- objectName: "arn:aws:secretsmanager:us-east-1:111122223333:secret:s-abc"\n  objectVersionLabel: AWSPREVIOUS\n' +
        '- objectName: /p\n  objectType: ssmparameter\n  objectVersion: 2',
    });
    expect(config.objects.map((spec) => spec.failover)).toEqual([
      { objectName: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:s-abc', objectVersionLabel: 'AWSPREVIOUS' },
      { objectName: '/p', objectVersion: '2' },
    ]);
  });

  it('fills a failoverObject from the primary: version, and label unless its own', () => {
    const config = parse({
      region: 'us-east-1',
      failoverRegion: 'us-east-2',
      objects:
        '- objectName: a\n  objectType: secretsmanager\n  objectAlias: a\n  objectVersion: v1\n  objectVersionLabel: L1\n' +
        '  failoverObject: {objectName: b, objectVersion: v1}\n' +
        '- objectName: c\n  objectType: secretsmanager\n  objectAlias: c\n  objectVersionLabel: L1\n' +
        '  failoverObject: {objectName: d, objectVersionLabel: L2}',
    });
    expect(config.objects.map((spec) => spec.failover)).toEqual([
      { objectName: 'b', objectVersion: 'v1', objectVersionLabel: 'L1' },
      { objectName: 'd', objectVersionLabel: 'L2' },
    ]);
  });

  it('follows YAML aliases', () => {
    const config = parse({
      objects: '- objectName: db\n  objectType: &type secretsmanager\n- objectName: db2\n  objectType: *type',
    });
    expect(config.objects.map((spec) => spec.objectType)).toEqual(['secretsmanager', 'secretsmanager']);
  });
});

describe('checkArnRegions', () => {
  const arnObjects = (region: string) => `- objectName: "arn:aws:secretsmanager:${region}:111122223333:secret:s"`;

  it('accepts ARNs in the resolved region and plain names', () => {
    const config = parse({ objects: `${arnObjects('eu-west-1')}\n- objectName: n\n  objectType: secretsmanager` });
    expect(() => checkArnRegions(config, 'eu-west-1')).not.toThrow();
  });

  it('rejects an ARN in another region than the resolved one, naming the object', () => {
    const config = parse({ objects: arnObjects('eu-west-1') });
    const error = invalid(() => checkArnRegions(config, 'us-east-1'));
    expect(error.message).toContain('objects[0] "arn:aws:secretsmanager:eu-west-1:111122223333:secret:s"');
    expect(error.message).toContain('objectName is an ARN in region eu-west-1');
    expect(error.message).toContain('region is us-east-1');
  });
});
