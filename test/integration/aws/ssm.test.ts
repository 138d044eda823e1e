import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { labelParameterVersion, putParameter } from '../../harness/moto.js';
import { PRIMARY, parameter, rejection, useAwsTestBed } from './support.js';

const bed = useAwsTestBed();

describe('SSM Parameter Store fetch', () => {
  it('fetches 12 parameters with 2 GetParameters calls, decrypting SecureStrings', async () => {
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        putParameter(PRIMARY, `/app/p${i}`, `value-${i}`, i % 2 === 0 ? 'SecureString' : 'String'),
      ),
    );
    const objects = Array.from({ length: 12 }, (_, i) => parameter(i, { objectName: `/app/p${i}` }));

    const fetched = await bed.fetch(objects);

    expect(fetched.map((f) => [f.value.toString(), f.version])).toEqual(
      Array.from({ length: 12 }, (_, i) => [`value-${i}`, '1']),
    );
    const calls = bed.calls({ action: 'GetParameters' });
    expect(calls.map((c) => c.names.length).sort()).toEqual([10, 2]);
    expect(calls.every((c) => c.body?.WithDecryption === true)).toBe(true);
    expect(bed.calls()).toHaveLength(2);
  });

  it('answers name:version and name:label selectors with the version each asked for', async () => {
    await putParameter(PRIMARY, '/app/db', 'v1', 'SecureString');
    await putParameter(PRIMARY, '/app/db', 'v2', 'SecureString', true);
    await putParameter(PRIMARY, '/app/db', 'v3', 'SecureString', true);
    await labelParameterVersion(PRIMARY, '/app/db', 1, ['stable']);

    const fetched = await bed.fetch([
      parameter(0, { objectName: '/app/db', objectVersion: '2' }),
      parameter(1, { objectName: '/app/db', objectVersionLabel: 'stable' }),
      parameter(2, { objectName: '/app/db' }),
    ]);

    expect(fetched.map((f) => [f.value.toString(), f.version])).toEqual([
      ['v2', '2'],
      ['v1', '1'],
      ['v3', '3'],
    ]);
    // moto's answers carry no Selector: each selector of one parameter goes in its own call.
    expect(bed.calls({ action: 'GetParameters' }).map((c) => c.names)).toEqual(
      expect.arrayContaining([['/app/db:2'], ['/app/db:stable'], ['/app/db']]),
    );
  });

  it('accepts a parameter ARN', async () => {
    await putParameter(PRIMARY, '/app/db', 'by-arn');

    const [fetched] = await bed.fetch([
      parameter(0, { objectName: `arn:aws:ssm:${PRIMARY}:123456789012:parameter/app/db` }),
    ]);

    expect(fetched!.value.toString()).toBe('by-arn');
  });

  it('names a missing parameter, and a missing version, from InvalidParameters', async () => {
    await putParameter(PRIMARY, '/app/db', 'present');

    const error = await rejection(
      bed.fetch([
        parameter(0, { objectName: '/app/db' }),
        parameter(1, { objectName: '/app/missing' }),
      ]),
    );
    expect(error).toMatchObject({ grpcStatus: status.NOT_FOUND, code: 'ObjectNotFound' });
    expect(error.message).toMatch(
      /^objects\[1\] "\/app\/missing": SSM Parameter Store GetParameters in us-east-1 failed with InvalidParameters .*check objectName, objectVersion\/objectVersionLabel and region/,
    );
    expect(error.message).not.toContain('present');

    const version = await rejection(bed.fetch([parameter(0, { objectName: '/app/db', objectVersion: '7' })]));
    expect(version.message).toMatch(/^objects\[0\] "\/app\/db": .*"\/app\/db:7" in InvalidParameters/);
  });
});
