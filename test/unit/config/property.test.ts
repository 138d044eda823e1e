import { status } from '@grpc/grpc-js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseMountRequest } from '../../../src/config/mountRequest.js';
import { ProviderError } from '../../../src/errors.js';
import { mountRequest } from './request.js';

const VALID = [
  '- objectName: "arn:aws:secretsmanager:us-east-1:111122223333:secret:MySecret-a1b2c3"\n  objectAlias: s\n' +
    '  failoverObject:\n    - objectName: "arn:aws:secretsmanager:us-east-2:111122223333:secret:F-d4e5f6"\n',
  '- objectName: MySecret\n  objectType: secretsmanager\n  jmesPath:\n    - Path: username\n      ObjectAlias: dbuser\n',
  '- objectName: /app/db\n  objectType: ssmparameter\n  objectVersion: 3\n  filePermission: "0600"\n',
];

const KEYS = ['objectName', 'objectType', 'objectAlias', 'objectVersion', 'objectVersionLabel', 'filePermission',
  'jmesPath', 'failoverObject', 'path', 'ObjectAlias', 'junk'];
const SCALARS = fc.oneof(
  fc.constantFrom('secretsmanager', 'ssmparameter', '0600', '..', '/', 'a/b', 'arn:aws:ssm:us-east-1:111122223333:parameter/x',
    'arn:aws:secretsmanager:us-east-2:111122223333:secret:s', 'username', 'a[0', '', '3'),
  fc.string(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
);

/** YAML trees shaped like object lists: maps with the real keys (and some junk) holding scalars, lists and maps. */
const { tree } = fc.letrec((tie) => ({
  tree: fc.oneof({ depthSize: 'small' }, SCALARS, fc.array(tie('tree'), { maxLength: 3 }), tie('map')),
  map: fc.dictionary(fc.constantFrom(...KEYS), tie('tree'), { maxKeys: 5 }),
}));

/** Deletes, inserts or replaces characters of a valid list: the typos a person makes. */
const mutated = fc
  .tuple(fc.constantFrom(...VALID), fc.array(fc.tuple(fc.nat(), fc.nat({ max: 2 }), fc.string({ maxLength: 3 })), { maxLength: 4 }))
  .map(([text, edits]) =>
    edits.reduce((acc, [at, kind, chunk]) => {
      const i = at % (acc.length + 1);
      if (kind === 0) return acc.slice(0, i) + acc.slice(i + 1);
      if (kind === 1) return acc.slice(0, i) + chunk + acc.slice(i);
      return acc.slice(0, i) + chunk + acc.slice(i + chunk.length);
    }, text),
  );

const PARAMETERS = fc.record({
  region: fc.constantFrom('', 'us-east-1', 'us-east-2', 'US EAST'),
  failoverRegion: fc.constantFrom('', 'us-east-2', 'us-east-1'),
  pathTranslation: fc.constantFrom('', '_', 'False', '/', 'xx'),
});

function parseNeverThrowsOtherErrors(objects: string, parameters: Record<string, string>): void {
  try {
    parseMountRequest(mountRequest({ ...parameters, objects }));
  } catch (err) {
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).grpcStatus).toBe(status.INVALID_ARGUMENT);
  }
}

describe('objects parsing is total: anything else than a config is an INVALID_ARGUMENT ProviderError', () => {
  it('on arbitrary text', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), PARAMETERS, parseNeverThrowsOtherErrors), { numRuns: 500 });
  });

  it('on mutated valid lists', () => {
    fc.assert(fc.property(mutated, PARAMETERS, parseNeverThrowsOtherErrors), { numRuns: 1000 });
  });

  it('on random YAML trees with the real keys', () => {
    const lists = fc.array(tree, { minLength: 1, maxLength: 4 }).map((items) => stringify(items));
    fc.assert(fc.property(lists, PARAMETERS, parseNeverThrowsOtherErrors), { numRuns: 1000 });
  });
});
