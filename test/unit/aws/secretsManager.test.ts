import { describe, expect, it } from 'vitest';
import {
  BatchSupportStore,
  findEntry,
  matchBatchAnswer,
  planSecretCalls,
  toFetched,
} from '../../../src/aws/secretsManager.js';

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret';

describe('planSecretCalls', () => {
  it('batches 25 current secrets into 20 + 5', () => {
    const refs = Array.from({ length: 25 }, (_, i) => ({ objectName: `s${i}` }));
    const calls = planSecretCalls(refs, true);
    expect(calls).toHaveLength(2);
    expect(calls.map((c) => (c.batch ? c.refs.length : 0))).toEqual([20, 5]);
  });

  it('asks for each pinned version or label on its own', () => {
    const refs = [
      { objectName: 'a' },
      { objectName: 'b', objectVersion: 'v-1' },
      { objectName: 'c', objectVersionLabel: 'AWSPREVIOUS' },
      { objectName: 'd' },
    ];
    expect(planSecretCalls(refs, true)).toEqual([
      { batch: true, refs: [0, 3] },
      { batch: false, ref: 1 },
      { batch: false, ref: 2 },
    ]);
  });

  it('asks for each secret on its own when the identity may not batch', () => {
    expect(planSecretCalls([{ objectName: 'a' }, { objectName: 'b' }], false)).toEqual([
      { batch: false, ref: 0 },
      { batch: false, ref: 1 },
    ]);
  });
});

describe('findEntry', () => {
  const entries = [
    { ARN: `${ARN}:app/db-AbCdEf`, Name: 'app/db' },
    { ARN: `${ARN}:app/db-AbCdEf-XyZxYz`, Name: 'app/db-AbCdEf' },
  ];
  const keys = (e: { ARN: string; Name: string }): [string, string] => [e.ARN, e.Name];

  it.each([
    ['a name', 'app/db', 'app/db'],
    ['a full ARN', `${ARN}:app/db-AbCdEf`, 'app/db'],
    ['a partial ARN (no random suffix)', `${ARN}:app/db`, 'app/db'],
    ['a name that looks like a suffixed one', 'app/db-AbCdEf', 'app/db-AbCdEf'],
    ['the full ARN of the suffix-like name', `${ARN}:app/db-AbCdEf-XyZxYz`, 'app/db-AbCdEf'],
  ])('matches %s', (_case, id, name) => {
    expect(findEntry(id, entries, keys)?.Name).toBe(name);
  });

  it('prefers an exact ARN over a partial one that also fits', () => {
    // `${ARN}:app/db-AbCdEf` is app/db's full ARN and also a partial ARN of app/db-AbCdEf.
    expect(findEntry(`${ARN}:app/db-AbCdEf`, [...entries].reverse(), keys)?.Name).toBe('app/db');
  });

  it('does not match a name by prefix', () => {
    expect(findEntry('app', entries, keys)).toBeUndefined();
    expect(findEntry(`${ARN}:app`, entries, keys)).toBeUndefined();
  });
});

describe('matchBatchAnswer', () => {
  it('maps values, Errors[] entries and omissions back to the ids asked for', () => {
    const outcomes = matchBatchAnswer(
      ['app/db', `${ARN}:bin`, 'gone', 'lost'],
      [
        { ARN: `${ARN}:bin-QwErTy`, Name: 'bin', VersionId: 'v-bin', SecretBinary: new Uint8Array([0, 255]) },
        { ARN: `${ARN}:app/db-AbCdEf`, Name: 'app/db', VersionId: 'v-db', SecretString: 'pässword' },
      ],
      [{ SecretId: 'gone', ErrorCode: 'ResourceNotFoundException', Message: "can't find it" }],
    );
    expect(outcomes[0]).toEqual({ ok: true, fetched: { value: Buffer.from('pässword'), version: 'v-db' } });
    expect(outcomes[1]).toEqual({ ok: true, fetched: { value: Buffer.from([0, 255]), version: 'v-bin', binary: true } });
    expect(outcomes[2]).toMatchObject({
      ok: false,
      action: 'BatchGetSecretValue',
      error: { name: 'ResourceNotFoundException', message: "can't find it" },
    });
    expect(outcomes[3]).toMatchObject({ ok: false, error: { name: 'MissingFromAnswer' } });
  });
});

describe('toFetched', () => {
  it('takes SecretString as UTF-8, else SecretBinary as is and marked binary (objectEncoding leaves it alone)', () => {
    expect(toFetched({ SecretString: '€', SecretBinary: new Uint8Array([1]), VersionId: 'v' })).toEqual({
      value: Buffer.from([0xe2, 0x82, 0xac]),
      version: 'v',
    });
    expect(toFetched({ SecretBinary: new Uint8Array([9, 8]), VersionId: 'v' })).toEqual({
      value: Buffer.from([9, 8]),
      version: 'v',
      binary: true,
    });
  });
});

describe('BatchSupportStore', () => {
  it('remembers a denial per identity, for a while', async () => {
    const store = new BatchSupportStore({ ttlMs: 30 });
    store.markUnsupported('ns/sa/role-a');
    expect(store.isUnsupported('ns/sa/role-a')).toBe(true);
    expect(store.isUnsupported('ns/sa/role-b')).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(store.isUnsupported('ns/sa/role-a')).toBe(false);
  });
});
