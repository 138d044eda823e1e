import { describe, expect, it } from 'vitest';
import { matchParameters, parameterKey, planParameterCalls, selectorOf } from '../../../src/aws/ssm.js';

describe('selectorOf', () => {
  it.each([
    [{ objectName: '/app/db' }, '/app/db'],
    [{ objectName: '/app/db', objectVersion: '3' }, '/app/db:3'],
    [{ objectName: '/app/db', objectVersionLabel: 'prod' }, '/app/db:prod'],
  ])('%j → %s', (ref, selector) => {
    expect(selectorOf(ref)).toBe(selector);
  });
});

describe('parameterKey', () => {
  it.each([
    ['/app/db', '/app/db'],
    ['app', '/app'],
    ['/app/db:3', '/app/db'],
    ['/app/db:prod', '/app/db'],
    ['arn:aws:ssm:us-east-1:123456789012:parameter/app/db', '/app/db'],
    ['arn:aws:ssm:us-east-1:123456789012:parameter/app', '/app'],
    ['arn:aws-cn:ssm:cn-north-1:123456789012:parameter/app/db:prod', '/app/db'],
  ])('%s designates %s', (name, key) => {
    expect(parameterKey(name)).toBe(key);
  });
});

describe('planParameterCalls', () => {
  it('asks for 12 parameters in 10 + 2', () => {
    const refs = Array.from({ length: 12 }, (_, i) => ({ objectName: `/p/${i}` }));
    expect(planParameterCalls(refs).map((call) => call.length)).toEqual([10, 2]);
  });

  it('puts each parameter at most once in a call, however it is named', () => {
    const refs = [
      { objectName: '/p/a' },
      { objectName: '/p/a', objectVersion: '1' },
      { objectName: '/p/b' },
      { objectName: 'arn:aws:ssm:us-east-1:123456789012:parameter/p/a', objectVersionLabel: 'old' },
    ];
    expect(planParameterCalls(refs)).toEqual([[0, 2], [1], [3]]);
  });

  it('fills earlier calls first, so duplicates cost extra calls only past ceil(M / 10)', () => {
    const refs = [
      ...Array.from({ length: 15 }, (_, i) => ({ objectName: `/p/${i}` })),
      { objectName: '/p/0', objectVersion: '1' },
    ];
    expect(planParameterCalls(refs).map((call) => call.length)).toEqual([10, 6]);
  });
});

describe('matchParameters', () => {
  it('matches answers by parameter, with or without an echoed Selector', () => {
    const outcomes = matchParameters(
      [{ objectName: '/p/a', objectVersionLabel: 'old' }, { objectName: 'arn:aws:ssm:us-east-1:1:parameter/p/b' }],
      {
        Parameters: [
          { Name: '/p/b', ARN: 'arn:aws:ssm:us-east-1:1:parameter/p/b', Value: 'bee', Version: 7 },
          { Name: '/p/a', Selector: ':old', Value: 'ä', Version: 1 },
        ],
      },
    );
    expect(outcomes).toEqual([
      { ok: true, fetched: { value: Buffer.from('ä'), version: '1' } },
      { ok: true, fetched: { value: Buffer.from('bee'), version: '7' } },
    ]);
  });

  it('turns InvalidParameters into a not-found error naming the selector, and omissions into MissingFromAnswer', () => {
    const [invalid, missing] = matchParameters(
      [{ objectName: '/p/a', objectVersion: '9' }, { objectName: '/p/c' }],
      { Parameters: [], InvalidParameters: ['/p/a:9'] },
    );
    expect(invalid).toMatchObject({
      ok: false,
      action: 'GetParameters',
      error: { name: 'InvalidParameters', message: 'AWS listed "/p/a:9" in InvalidParameters' },
    });
    expect(missing).toMatchObject({ ok: false, error: { name: 'MissingFromAnswer' } });
  });
});
