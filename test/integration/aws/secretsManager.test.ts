import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { createSecret, putSecretValue } from '../../harness/moto.js';
import { PRIMARY, rejection, secret, useAwsTestBed } from './support.js';

const bed = useAwsTestBed();

describe('Secrets Manager fetch', () => {
  it('fetches 25 current secrets with 2 BatchGetSecretValue calls, in the order asked', async () => {
    const seeded = await Promise.all(
      Array.from({ length: 25 }, (_, i) => createSecret(PRIMARY, `app/s${i}`, `value-${i}`)),
    );
    const objects = seeded.map((_, i) => secret(i, { objectName: `app/s${i}` }));

    const fetched = await bed.fetch(objects);

    expect(fetched.map((f) => f.value.toString())).toEqual(seeded.map((_, i) => `value-${i}`));
    expect(fetched.map((f) => f.version)).toEqual(seeded.map((s) => s.versionId));
    expect(fetched.every((f) => f.region === PRIMARY && !f.fromFailover)).toBe(true);
    const batches = bed.calls({ action: 'BatchGetSecretValue' });
    expect(batches.map((b) => b.secretIds.length).sort()).toEqual([20, 5]);
    expect(bed.calls()).toHaveLength(2);
  });

  it('accepts a full ARN and a partial ARN (without the random suffix) in one batch', async () => {
    const { arn } = await createSecret(PRIMARY, 'app/db', 'by-arn');
    await createSecret(PRIMARY, 'app/cache', 'by-partial-arn');
    const partial = arn.replace(/app\/db-.{6}$/, 'app/cache');

    const fetched = await bed.fetch([secret(0, { objectName: arn }), secret(1, { objectName: partial })]);

    expect(fetched.map((f) => f.value.toString())).toEqual(['by-arn', 'by-partial-arn']);
    expect(bed.calls()).toHaveLength(1);
  });

  it('reads pinned VersionId and VersionStage with one GetSecretValue each, next to the batch', async () => {
    const first = await createSecret(PRIMARY, 'app/rotating', 'old');
    const second = await putSecretValue(PRIMARY, 'app/rotating', 'new');
    await createSecret(PRIMARY, 'app/plain', 'plain');

    const fetched = await bed.fetch([
      secret(0, { objectName: 'app/rotating', objectVersion: first.versionId }),
      secret(1, { objectName: 'app/rotating', objectVersionLabel: 'AWSPREVIOUS' }),
      secret(2, { objectName: 'app/rotating' }),
      secret(3, { objectName: 'app/plain' }),
    ]);

    expect(fetched.map((f) => [f.value.toString(), f.version])).toEqual([
      ['old', first.versionId],
      ['old', first.versionId],
      ['new', second.versionId],
      ['plain', expect.any(String)],
    ]);
    expect(bed.calls({ action: 'GetSecretValue' }).map((c) => JSON.stringify(c.body)).sort()).toEqual([
      JSON.stringify({ SecretId: 'app/rotating', VersionId: first.versionId }),
      JSON.stringify({ SecretId: 'app/rotating', VersionStage: 'AWSPREVIOUS' }),
    ]);
    expect(bed.calls({ action: 'BatchGetSecretValue' })).toHaveLength(1);
  });

  it('returns binary secret bytes as they are', async () => {
    const bytes = new Uint8Array([0, 1, 2, 0xfe, 0xff, 0x80]);
    await createSecret(PRIMARY, 'app/keystore', bytes);

    const [fetched] = await bed.fetch([secret(0, { objectName: 'app/keystore' })]);

    expect(fetched!.value).toEqual(Buffer.from(bytes));
  });

  it('asks once for an object listed twice', async () => {
    await createSecret(PRIMARY, 'app/db', 'same');

    const fetched = await bed.fetch([secret(0, { objectName: 'app/db' }), secret(1, { objectName: 'app/db' })]);

    expect(fetched.map((f) => f.value.toString())).toEqual(['same', 'same']);
    expect(bed.calls()[0]!.secretIds).toEqual(['app/db']);
  });

  it("fails the whole fetch with a per-secret batch error that names the object and AWS's code", async () => {
    await createSecret(PRIMARY, 'app/db', 'present');

    const error = await rejection(
      bed.fetch([secret(0, { objectName: 'app/db' }), secret(1, { objectName: 'app/missing' })]),
    );

    expect(error).toMatchObject({ grpcStatus: status.NOT_FOUND, code: 'ObjectNotFound' });
    expect(error.message).toMatch(
      /^objects\[1\] "app\/missing": Secrets Manager BatchGetSecretValue in us-east-1 failed with ResourceNotFoundException .*check objectName and region/,
    );
    expect(error.message).not.toContain('present');
  });

  it('names a pinned version that does not exist', async () => {
    await createSecret(PRIMARY, 'app/db', 'present');

    const error = await rejection(
      bed.fetch([secret(0, { objectName: 'app/db', objectVersionLabel: 'NOPE' })]),
    );

    expect(error).toMatchObject({ grpcStatus: status.NOT_FOUND, code: 'ObjectNotFound' });
    expect(error.message).toMatch(/^objects\[0\] "app\/db": Secrets Manager GetSecretValue in us-east-1 failed with ResourceNotFoundException/);
  });
});
