/**
 * Bad `objects` parameters and what the message must say: the parse stage's tests (objects.bad.test.ts) and
 * `check`'s (test/unit/cli/check.test.ts) run the same inputs and expect the same messages.
 */
export const OBJECTS = '- objectName: MySecret\n  objectType: secretsmanager';

const SM_ARN_E1 = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:MySecret-a1b2c3';
const SM_ARN_E2 = 'arn:aws:secretsmanager:us-east-2:111122223333:secret:MySecret-a1b2c3';
const SSM_ARN_E1 = 'arn:aws:ssm:us-east-1:111122223333:parameter/app/db';

const WILDCARD_PARAMETERS = { pathTranslation: 'False', region: 'us-east-1' };

export interface BadObjects {
  name: string;
  objects: string;
  parameters?: Record<string, string>;
  /** Every string must appear in the message: the object, the field, the fix. */
  mentions: string[];
}

export const BAD_OBJECTS: BadObjects[] = [
  // The YAML itself
  { name: 'malformed YAML', objects: '- objectName: "a\n  objectType: x', mentions: ['objects', 'line', 'column', 'YAML list'] },
  { name: 'bad indentation', objects: '- objectName: a\n objectType: b\n  - c', mentions: ['objects', 'line', 'column'] },
  { name: 'a map, not a list', objects: 'objectName: a\nobjectType: secretsmanager', mentions: ['objects must be a YAML list', 'a map'] },
  { name: 'a plain string', objects: 'MySecret', mentions: ['objects must be a YAML list', 'MySecret'] },
  { name: 'an empty list', objects: '[]', mentions: ['objects lists no object'] },
  { name: 'a comment only', objects: '# nothing', mentions: ['objects must be a YAML list', 'nothing'] },
  { name: 'entry is a string', objects: '- MySecret', mentions: ['objects[0] must be a map', 'MySecret'] },
  { name: 'entry is a list', objects: '- [a, b]', mentions: ['objects[0] must be a map', 'a list'] },
  { name: 'entry is empty', objects: '-', mentions: ['objects[0] must be a map', 'nothing'] },
  { name: 'duplicate key', objects: '- objectName: a\n  objectName: b', mentions: ['objects', 'key "objectName" at line 2, column 3 appears twice', 'Keep one'] },
  { name: 'nested too deeply (block)', objects: `${'- '.repeat(1000)}x`, mentions: ['objects', 'nests deeper than 100 levels'] },
  { name: 'nested too deeply (flow)', objects: `${'['.repeat(5000)}${']'.repeat(5000)}`, mentions: ['objects', 'nests deeper than 100 levels'] },
  { name: 'a recursive alias', objects: '- &a\n  objectName: x\n  jmesPath: [*a]', mentions: ['objects', 'alias *a refers to a node that contains it'] },
  {
    name: 'aliases that expand without bound',
    objects: `a0: &a0 [x, x, x, x]\n${Array.from({ length: 12 }, (_, i) => `a${i + 1}: &a${i + 1} [*a${i}, *a${i}, *a${i}]`).join('\n')}`,
    mentions: ['objects', 'more than 10000 nodes'],
  },
  // Keys
  {
    name: 'unknown key',
    objects: '- objectName: MySecret\n  objectType: secretsmanager\n  objectAliass: x',
    mentions: ['objects[0] "MySecret"', 'unknown key "objectAliass"', 'Did you mean "objectAlias"', 'objectVersionLabel', 'failoverObject'],
  },
  {
    name: 'unknown key far from any',
    objects: '- objectName: MySecret\n  objectType: secretsmanager\n  color: blue',
    mentions: ['objects[0] "MySecret"', 'unknown key "color"', 'Allowed keys: objectName'],
  },
  {
    name: 'same key in two cases',
    objects: '- objectName: MySecret\n  objectType: secretsmanager\n  objectAlias: a\n  ObjectAlias: b',
    mentions: ['objects[0] "MySecret"', '"objectAlias" and "ObjectAlias"', 'Keep one'],
  },
  // objectName
  { name: 'missing objectName', objects: '- objectType: secretsmanager', mentions: ['objects[0]', 'objectName is required'] },
  { name: 'empty objectName', objects: '- objectName: ""\n  objectType: secretsmanager', mentions: ['objects[0]', 'objectName is required'] },
  { name: 'null objectName', objects: '- objectName: ~\n  objectType: secretsmanager', mentions: ['objects[0]', 'objectName is required'] },
  { name: 'objectName a map', objects: '- objectName: {a: b}\n  objectType: secretsmanager', mentions: ['objects[0]', 'objectName must be a string', 'a map'] },
  { name: 'objectName a list', objects: '- objectName: [a]\n  objectType: secretsmanager', mentions: ['objects[0]', 'objectName must be a string', 'a list'] },
  { name: 'second entry missing objectName', objects: '- objectName: a\n  objectType: ssmparameter\n- objectAlias: b', mentions: ['objects[1]', 'objectName is required'] },
  // ARNs
  { name: 'ARN with too few parts', objects: '- objectName: "arn:aws:secretsmanager:us-east-1"', mentions: ['objects[0] "arn:aws:secretsmanager:us-east-1"', 'objectName', 'six parts'] },
  { name: 'ARN of another service', objects: '- objectName: "arn:aws:s3:us-east-1:111122223333:bucket/x"', mentions: ['objects[0]', 'objectName', 'service "s3"'] },
  { name: 'ARN with a bad partition', objects: '- objectName: "arn:gcp:secretsmanager:us-east-1:111122223333:secret:x"', mentions: ['objects[0]', 'objectName', 'partition'] },
  { name: 'ARN with a bad account', objects: '- objectName: "arn:aws:secretsmanager:us-east-1:12ab:secret:x"', mentions: ['objects[0]', 'objectName', 'account "12ab"'] },
  { name: 'ARN without region', objects: '- objectName: "arn:aws:secretsmanager::111122223333:secret:x"', mentions: ['objects[0]', 'objectName', 'region part is empty'] },
  { name: 'Secrets Manager ARN without secret:', objects: '- objectName: "arn:aws:secretsmanager:us-east-1:111122223333:x"', mentions: ['objects[0]', 'objectName', 'secret:NAME'] },
  { name: 'SSM ARN without parameter/', objects: '- objectName: "arn:aws:ssm:us-east-1:111122223333:document/x"', mentions: ['objects[0]', 'objectName', 'parameter/NAME'] },
  {
    name: 'ARN region differs from region',
    parameters: { region: 'us-east-1' },
    objects: `- objectName: "${SM_ARN_E2}"`,
    mentions: [`objects[0] "${SM_ARN_E2}"`, 'objectName is an ARN in region us-east-2', 'region is us-east-1', 'set region: us-east-2'],
  },
  // objectType
  { name: 'unknown objectType', objects: '- objectName: MySecret\n  objectType: vault', mentions: ['objects[0] "MySecret"', 'objectType "vault"', 'secretsmanager or ssmparameter'] },
  { name: 'objectType ssm (ASCP rejects it too)', objects: '- objectName: MySecret\n  objectType: ssm', mentions: ['objects[0] "MySecret"', 'objectType "ssm"'] },
  { name: 'objectType disagrees with ARN', objects: `- objectName: "${SM_ARN_E1}"\n  objectType: ssmparameter`, mentions: [`objects[0] "${SM_ARN_E1}"`, 'objectType is ssmparameter', 'secretsmanager ARN'] },
  { name: 'objectType disagrees with SSM ARN', objects: `- objectName: "${SSM_ARN_E1}"\n  objectType: secretsmanager`, mentions: ['objects[0]', 'objectType is secretsmanager', 'ssmparameter ARN'] },
  { name: 'objectType a list', objects: '- objectName: MySecret\n  objectType: [secretsmanager]', mentions: ['objects[0] "MySecret"', 'objectType must be a string'] },
  // Versions
  {
    name: 'SSM version and label',
    objects: '- objectName: /app/db\n  objectType: ssmparameter\n  objectVersion: 3\n  objectVersionLabel: prod',
    mentions: ['objects[0] "/app/db"', 'objectVersion or objectVersionLabel, not both'],
  },
  { name: 'SSM version not a number', objects: '- objectName: /app/db\n  objectType: ssmparameter\n  objectVersion: latest', mentions: ['objects[0] "/app/db"', 'objectVersion "latest"', 'positive whole number'] },
  { name: 'SSM version zero', objects: '- objectName: /app/db\n  objectType: ssmparameter\n  objectVersion: 0', mentions: ['objects[0] "/app/db"', 'objectVersion "0"'] },
  { name: 'SSM version negative', objects: '- objectName: /app/db\n  objectType: ssmparameter\n  objectVersion: -2', mentions: ['objects[0] "/app/db"', 'objectVersion "-2"'] },
  { name: 'SSM version a float', objects: '- objectName: /app/db\n  objectType: ssmparameter\n  objectVersion: 1.5', mentions: ['objects[0] "/app/db"', 'objectVersion "1.5"'] },
  { name: 'objectVersionLabel a map', objects: '- objectName: s\n  objectType: secretsmanager\n  objectVersionLabel: {a: 1}', mentions: ['objects[0] "s"', 'objectVersionLabel must be a string'] },
  // filePermission
  { name: 'filePermission with 3 digits', objects: '- objectName: s\n  objectType: secretsmanager\n  filePermission: "600"', mentions: ['objects[0] "s"', 'filePermission "600"', '"0600"'] },
  { name: 'filePermission not octal', objects: '- objectName: s\n  objectType: secretsmanager\n  filePermission: "0800"', mentions: ['objects[0] "s"', 'filePermission "0800"'] },
  { name: 'filePermission with setuid', objects: '- objectName: s\n  objectType: secretsmanager\n  filePermission: "4755"', mentions: ['objects[0] "s"', 'filePermission "4755"', '"0777"'] },
  { name: 'filePermission as words', objects: '- objectName: s\n  objectType: secretsmanager\n  filePermission: rw-r--r--', mentions: ['objects[0] "s"', 'filePermission "rw-r--r--"'] },
  // jmesPath
  { name: 'jmesPath a string', objects: '- objectName: s\n  objectType: secretsmanager\n  jmesPath: username', mentions: ['objects[0] "s"', 'jmesPath must be a list'] },
  { name: 'jmesPath a map', objects: '- objectName: s\n  objectType: secretsmanager\n  jmesPath: {path: a, objectAlias: b}', mentions: ['objects[0] "s"', 'jmesPath must be a list'] },
  { name: 'jmesPath entry a string', objects: '- objectName: s\n  objectType: secretsmanager\n  jmesPath: [username]', mentions: ['objects[0] "s" jmesPath[0] must be a map'] },
  { name: 'jmesPath entry without path', objects: '- objectName: s\n  objectType: secretsmanager\n  jmesPath:\n    - objectAlias: u', mentions: ['objects[0] "s" jmesPath[0]', 'path is required'] },
  { name: 'jmesPath entry without objectAlias', objects: '- objectName: s\n  objectType: secretsmanager\n  jmesPath:\n    - path: username', mentions: ['objects[0] "s" jmesPath[0]', 'objectAlias is required'] },
  { name: 'jmesPath entry with an unknown key', objects: '- objectName: s\n  objectType: secretsmanager\n  jmesPath:\n    - path: a\n      objectAlias: b\n      alias: c', mentions: ['objects[0] "s" jmesPath[0]', 'unknown key "alias"', 'path, objectAlias, filePermission'] },
  { name: 'jmesPath bad expression', objects: '- objectName: s\n  objectType: secretsmanager\n  jmesPath:\n    - path: "a..b"\n      objectAlias: b', mentions: ['objects[0] "s" jmesPath[0]', 'path "a..b"', 'not a valid JMESPath'] },
  { name: 'jmesPath unbalanced bracket', objects: '- objectName: s\n  objectType: secretsmanager\n  jmesPath:\n    - path: "a[0"\n      objectAlias: b', mentions: ['objects[0] "s" jmesPath[0]', 'path "a[0"'] },
  { name: 'jmesPath bad filePermission', objects: '- objectName: s\n  objectType: secretsmanager\n  jmesPath:\n    - path: a\n      objectAlias: b\n      filePermission: 777', mentions: ['objects[0] "s" jmesPath[0]', 'filePermission "777"'] },
  // failoverObject
  {
    name: 'failoverObject without failoverRegion',
    parameters: { region: 'us-east-1' },
    objects: `- objectName: "${SM_ARN_E1}"\n  objectAlias: s\n  failoverObject: {objectName: other}`,
    mentions: [`objects[0] "${SM_ARN_E1}"`, 'failoverObject needs the failoverRegion parameter'],
  },
  {
    name: 'failoverObject without objectAlias',
    parameters: { region: 'us-east-1', failoverRegion: 'us-east-2' },
    objects: `- objectName: "${SM_ARN_E1}"\n  failoverObject: {objectName: "${SM_ARN_E2}"}`,
    mentions: [`objects[0] "${SM_ARN_E1}"`, 'failoverObject needs an objectAlias'],
  },
  {
    name: 'failoverObject version differs',
    parameters: { region: 'us-east-1', failoverRegion: 'us-east-2' },
    objects: `- objectName: "${SM_ARN_E1}"\n  objectAlias: s\n  objectVersion: v1\n  failoverObject: {objectName: "${SM_ARN_E2}", objectVersion: v2}`,
    mentions: [`objects[0] "${SM_ARN_E1}" failoverObject`, 'objectVersion "v2"', '"v1"', 'must match'],
  },
  {
    name: 'failoverObject ARN in the wrong region',
    parameters: { region: 'us-east-1', failoverRegion: 'us-west-2' },
    objects: `- objectName: "${SM_ARN_E1}"\n  objectAlias: s\n  failoverObject: {objectName: "${SM_ARN_E2}"}`,
    mentions: [`objects[0] "${SM_ARN_E1}" failoverObject`, 'objectName is an ARN in region us-east-2', 'failoverRegion is us-west-2'],
  },
  {
    name: 'failoverObject list of two',
    parameters: { region: 'us-east-1', failoverRegion: 'us-east-2' },
    objects: `- objectName: "${SM_ARN_E1}"\n  objectAlias: s\n  failoverObject:\n    - objectName: a\n    - objectName: b`,
    mentions: [`objects[0] "${SM_ARN_E1}"`, 'failoverObject must be one map', 'list of 2'],
  },
  {
    name: 'failoverObject of another type',
    parameters: { region: 'us-east-1', failoverRegion: 'us-east-2' },
    objects: `- objectName: "${SM_ARN_E1}"\n  objectAlias: s\n  failoverObject:\n    - objectName: "arn:aws:ssm:us-east-2:111122223333:parameter/x"`,
    mentions: [`objects[0] "${SM_ARN_E1}" failoverObject`, 'objectName is a ssmparameter ARN', 'secretsmanager'],
  },
  {
    name: 'failoverObject without objectName',
    parameters: { region: 'us-east-1', failoverRegion: 'us-east-2' },
    objects: `- objectName: "${SM_ARN_E1}"\n  objectAlias: s\n  failoverObject: {objectVersionLabel: AWSPREVIOUS}`,
    mentions: [`objects[0] "${SM_ARN_E1}" failoverObject`, 'objectName is required'],
  },
  {
    name: 'failoverObject unknown key',
    parameters: { region: 'us-east-1', failoverRegion: 'us-east-2' },
    objects: `- objectName: "${SM_ARN_E1}"\n  objectAlias: s\n  failoverObject: {objectName: x, objectType: secretsmanager}`,
    mentions: [`objects[0] "${SM_ARN_E1}" failoverObject`, 'unknown key "objectType"'],
  },
  {
    name: 'failoverObject a string',
    parameters: { region: 'us-east-1', failoverRegion: 'us-east-2' },
    objects: `- objectName: "${SM_ARN_E1}"\n  objectAlias: s\n  failoverObject: other`,
    mentions: [`objects[0] "${SM_ARN_E1}" failoverObject must be a map`],
  },
  {
    name: 'SSM failoverObject label with an inherited version',
    parameters: { region: 'us-east-1', failoverRegion: 'us-east-2' },
    objects: '- objectName: /app/db\n  objectType: ssmparameter\n  objectAlias: db\n  objectVersion: 3\n  failoverObject: {objectName: /app/db2, objectVersionLabel: prod}',
    mentions: ['objects[0] "/app/db" failoverObject', 'not both'],
  },
  // File names
  {
    name: 'two objects write the same file',
    objects: '- objectName: A\n  objectType: secretsmanager\n  objectAlias: x\n- objectName: C\n  objectType: secretsmanager\n- objectName: B\n  objectType: ssmparameter\n  objectAlias: x',
    mentions: ['objects[0] "A" and objects[2] "B" both write file "x"', 'distinct objectAlias'],
  },
  {
    name: 'same name twice without alias',
    objects: '- objectName: A\n  objectType: secretsmanager\n- objectName: A\n  objectType: secretsmanager\n  objectVersionLabel: AWSPREVIOUS',
    mentions: ['objects[0] "A" and objects[1] "A" both write file "A"'],
  },
  {
    name: 'a jmesPath alias equals an object file',
    objects: '- objectName: db\n  objectType: secretsmanager\n  jmesPath:\n    - path: user\n      objectAlias: other\n- objectName: other\n  objectType: secretsmanager',
    mentions: ['objects[0] "db" jmesPath[0] (objectAlias "other") and objects[1] "other" both write file "other"'],
  },
  {
    name: 'names equal after translation',
    objects: '- objectName: a/b\n  objectType: secretsmanager\n- objectName: a_b\n  objectType: secretsmanager',
    mentions: ['objects[0] "a/b" and objects[1] "a_b" both write file "a_b"'],
  },
  {
    name: 'a file where another needs a directory',
    parameters: { pathTranslation: 'False' },
    objects: '- objectName: app\n  objectType: ssmparameter\n- objectName: /app/db\n  objectType: ssmparameter',
    mentions: ['objects[0] "app" writes file "app" where objects[1] "/app/db" needs a directory'],
  },
  {
    name: '.. in a name with translation off',
    parameters: { pathTranslation: 'False' },
    objects: '- objectName: /app/../../etc/passwd\n  objectType: ssmparameter',
    mentions: ['objects[0] "/app/../../etc/passwd"', 'from objectName', '".." element', 'objectAlias'],
  },
  {
    name: '.. as an alias with translation on',
    objects: '- objectName: s\n  objectType: secretsmanager\n  objectAlias: ".."',
    mentions: ['objects[0] "s"', 'from objectAlias', '".." element'],
  },
  {
    name: '. element with translation off',
    parameters: { pathTranslation: 'false' },
    objects: '- objectName: a/./b\n  objectType: secretsmanager',
    mentions: ['objects[0] "a/./b"', '"." element'],
  },
  {
    name: 'double slash with translation off',
    parameters: { pathTranslation: 'FALSE' },
    objects: '- objectName: s\n  objectType: secretsmanager\n  objectAlias: a//b',
    mentions: ['objects[0] "s"', 'empty element'],
  },
  {
    name: 'trailing slash with translation off',
    parameters: { pathTranslation: 'False' },
    objects: '- objectName: s\n  objectType: secretsmanager\n  objectAlias: dir/',
    mentions: ['objects[0] "s"', 'empty element'],
  },
  {
    name: 'an alias of only slashes with translation off',
    parameters: { pathTranslation: 'False' },
    objects: '- objectName: s\n  objectType: secretsmanager\n  objectAlias: "//"',
    mentions: ['objects[0] "s"', 'it is empty'],
  },
  {
    name: 'absolute path through the translation character',
    parameters: { pathTranslation: '/' },
    objects: '- objectName: /etc/passwd\n  objectType: ssmparameter',
    mentions: ['objects[0] "/etc/passwd"', 'absolute'],
  },
  {
    name: 'element longer than 255 bytes',
    objects: `- objectName: s\n  objectType: secretsmanager\n  objectAlias: ${'x'.repeat(256)}`,
    mentions: ['objects[0] "s"', 'longer than 255 bytes'],
  },
  {
    name: 'jmesPath alias with ..',
    parameters: { pathTranslation: 'False' },
    objects: '- objectName: s\n  objectType: secretsmanager\n  jmesPath:\n    - path: a\n      objectAlias: ../a',
    mentions: ['objects[0] "s" jmesPath[0] (objectAlias "../a")', '".." element'],
  },
  // Beyond ASCP: objectEncoding, jsonKeys and wildcard objectNames (docs/objects.md)
  { name: 'objectEncoding not an encoding', objects: '- {objectName: a, objectType: secretsmanager, objectEncoding: base32}', mentions: ['objects[0] "a": objectEncoding "base32" is not an encoding', 'utf-8'] },
  { name: 'jmesPath objectEncoding not an encoding', objects: '- {objectName: a, objectType: secretsmanager, jmesPath: [{path: k, objectAlias: k, objectEncoding: b64}]}', mentions: ['objects[0] "a" jmesPath[0]: objectEncoding "b64"'] },
  { name: 'jsonKeys not all', objects: '- {objectName: a, objectType: secretsmanager, jsonKeys: "true"}', mentions: ['objects[0] "a": jsonKeys "true" is not a choice. Write jsonKeys: all'] },
  { name: 'wildcard: a * inside the name', parameters: WILDCARD_PARAMETERS, objects: '- {objectName: /app/*/db, objectType: ssmparameter}', mentions: ['objects[0] "/app/*/db"', 'does not end it', '/app/prod/*'] },
  { name: 'wildcard: a parameter path without its leading /', parameters: WILDCARD_PARAMETERS, objects: '- {objectName: app/prod/*, objectType: ssmparameter}', mentions: ['objects[0] "app/prod/*"', 'starts and ends with "/"'] },
  { name: 'wildcard: a parameter path not ending in /', parameters: WILDCARD_PARAMETERS, objects: '- {objectName: /app/prod*, objectType: ssmparameter}', mentions: ['objects[0] "/app/prod*"', 'starts and ends with "/"'] },
  { name: 'wildcard: every secret', parameters: WILDCARD_PARAMETERS, objects: '- {objectName: "*", objectType: secretsmanager, objectAlias: all}', mentions: ['objects[0] "*"', 'needs a name prefix'] },
  { name: 'wildcard: an ARN', parameters: WILDCARD_PARAMETERS, objects: '- {objectName: "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/*"}', mentions: ['objects[0]', 'takes a name, not an ARN'] },
  { name: 'wildcard: with objectVersion', parameters: WILDCARD_PARAMETERS, objects: '- {objectName: prod/*, objectType: secretsmanager, objectVersion: v1}', mentions: ['objects[0] "prod/*": objectVersion cannot be used with a wildcard'] },
  { name: 'wildcard: with a label', parameters: WILDCARD_PARAMETERS, objects: '- {objectName: /p/*, objectType: ssmparameter, objectVersionLabel: l}', mentions: ['objectVersionLabel cannot be used with a wildcard'] },
  { name: 'wildcard: with jmesPath', parameters: WILDCARD_PARAMETERS, objects: '- {objectName: prod/*, objectType: secretsmanager, jmesPath: [{path: a, objectAlias: a}]}', mentions: ['jmesPath cannot be used with a wildcard'] },
  { name: 'wildcard: with jsonKeys', parameters: WILDCARD_PARAMETERS, objects: '- {objectName: prod/*, objectType: secretsmanager, jsonKeys: all}', mentions: ['jsonKeys cannot be used with a wildcard'] },
  { name: 'wildcard: allowEmpty on a plain name', parameters: WILDCARD_PARAMETERS, objects: '- {objectName: prod, objectType: secretsmanager, allowEmpty: "true"}', mentions: ['objects[0] "prod": allowEmpty applies to a wildcard'] },
  { name: 'wildcard: allowEmpty not a boolean', parameters: WILDCARD_PARAMETERS, objects: '- {objectName: prod/*, objectType: secretsmanager, allowEmpty: maybe}', mentions: ['allowEmpty must be true or false'] },
  { name: 'wildcard: the root path with translation off and no alias', parameters: WILDCARD_PARAMETERS, objects: '- {objectName: /*, objectType: ssmparameter}', mentions: ['objects[0] "/*"', 'it is empty', 'objectAlias'] },
];

/** Bad SecretProviderClass parameters besides `objects`: the parameter, its value and the fix must be named. */
export const BAD_PARAMETERS: { name: string; parameters: Record<string, string>; mentions: string[] }[] = [
  { name: 'objects missing', parameters: {}, mentions: ['objects parameter is missing'] },
  { name: 'pathTranslation two characters', parameters: { objects: OBJECTS, pathTranslation: '__' }, mentions: ['pathTranslation "__"', 'single character', '"False"'] },
  { name: 'pathTranslation a word', parameters: { objects: OBJECTS, pathTranslation: 'no' }, mentions: ['pathTranslation "no"'] },
  { name: 'failoverRegion equals region', parameters: { objects: OBJECTS, region: 'us-east-1', failoverRegion: 'us-east-1' }, mentions: ['failoverRegion us-east-1 is the same as region'] },
  { name: 'region with a space', parameters: { objects: OBJECTS, region: 'us-east-1 ' }, mentions: ['region "us-east-1 "', 'us-east-1'] },
  { name: 'region unknown to the SDK', parameters: { objects: OBJECTS, region: 'zz-1' }, mentions: ['region "zz-1" is not an AWS region known', 'Check the spelling'] },
  { name: 'failoverRegion shaped like a region but unknown', parameters: { objects: OBJECTS, region: 'us-east-1', failoverRegion: 'us-mars-1' }, mentions: ['failoverRegion "us-mars-1" is not an AWS region known', 'newer provider'] },
  { name: 'failoverRegion list naming the region', parameters: { objects: OBJECTS, region: 'us-east-1', failoverRegion: 'us-west-2,us-east-1' }, mentions: ['failoverRegion entry 2 us-east-1 is the same as region'] },
  { name: 'failoverRegion list naming a region twice', parameters: { objects: OBJECTS, failoverRegion: 'us-west-2, eu-west-1,us-west-2' }, mentions: ['failoverRegion lists us-west-2 twice'] },
  { name: 'failoverRegion list with an empty entry', parameters: { objects: OBJECTS, failoverRegion: 'us-west-2,,eu-west-1' }, mentions: ['failoverRegion entry 2 is empty', 'us-west-2,eu-west-1'] },
  { name: 'failoverRegion list with an unknown region', parameters: { objects: OBJECTS, failoverRegion: 'us-west-2,eu-mars-1' }, mentions: ['failoverRegion entry 2 "eu-mars-1" is not an AWS region known'] },
  { name: 'failoverRegion in upper case', parameters: { objects: OBJECTS, failoverRegion: 'US-EAST-2' }, mentions: ['failoverRegion "US-EAST-2"'] },
  { name: 'usePodIdentity yes', parameters: { objects: OBJECTS, usePodIdentity: 'yes' }, mentions: ['usePodIdentity "yes"', '"true" or "false"'] },
  { name: 'assumeRoleArn not a role', parameters: { objects: OBJECTS, assumeRoleArn: 'arn:aws:iam::111122223333:user/bob' }, mentions: ['assumeRoleArn', 'not an IAM role ARN'] },
  { name: 'assumeRoleArn not an ARN', parameters: { objects: OBJECTS, assumeRoleArn: 'reader' }, mentions: ['assumeRoleArn "reader"'] },
  { name: 'assumeRoleDurationSeconds too short', parameters: { objects: OBJECTS, assumeRoleArn: 'arn:aws:iam::111122223333:role/r', assumeRoleDurationSeconds: '60' }, mentions: ['assumeRoleDurationSeconds "60"', '900 to 3600'] },
  { name: 'assumeRoleDurationSeconds above the chained-session cap', parameters: { objects: OBJECTS, assumeRoleArn: 'arn:aws:iam::111122223333:role/r', assumeRoleDurationSeconds: '3601' }, mentions: ['assumeRoleDurationSeconds "3601"', '900 to 3600', 'one hour'] },
  { name: 'assumeRoleDurationSeconds not a number', parameters: { objects: OBJECTS, assumeRoleArn: 'arn:aws:iam::111122223333:role/r', assumeRoleDurationSeconds: '1h' }, mentions: ['assumeRoleDurationSeconds "1h"'] },
  { name: 'assumeRoleExternalId without a role', parameters: { objects: OBJECTS, assumeRoleExternalId: 'x' }, mentions: ['assumeRoleExternalId is set without assumeRoleArn'] },
];
