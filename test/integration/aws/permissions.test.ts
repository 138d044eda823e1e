import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { createSecret, putParameter } from '../../harness/moto.js';
import { actAsUserWith } from './iam.js';
import { PRIMARY, parameter, rejection, secret, useAwsTestBed } from './support.js';

const bed = useAwsTestBed();

describe('permissions (moto enforcing IAM)', () => {
  it('falls back to GetSecretValue when BatchGetSecretValue is denied, and remembers it for the identity', async () => {
    await Promise.all([1, 2, 3].map((i) => createSecret(PRIMARY, `app/s${i}`, `value-${i}`)));
    const identity = await actAsUserWith(['secretsmanager:GetSecretValue']);
    const objects = [1, 2, 3].map((i) => secret(i - 1, { objectName: `app/s${i}` }));

    const first = await bed.fetch(objects, { identity });

    expect(first.map((f) => f.value.toString())).toEqual(['value-1', 'value-2', 'value-3']);
    expect(bed.calls({ action: 'BatchGetSecretValue' }).map((c) => c.status)).toEqual([403]);
    expect(bed.calls({ action: 'GetSecretValue' })).toHaveLength(3);
    expect(bed.batchSupport.isUnsupported(identity.key)).toBe(true);

    bed.proxy.clearRecords();
    const second = await bed.fetch(objects, { identity });

    expect(second.map((f) => f.value.toString())).toEqual(['value-1', 'value-2', 'value-3']);
    expect(bed.calls({ action: 'BatchGetSecretValue' })).toHaveLength(0);
    expect(bed.calls({ action: 'GetSecretValue' })).toHaveLength(3);
  });

  it('says which permission to grant when GetSecretValue is denied too', async () => {
    await createSecret(PRIMARY, 'app/db', 'value');
    const identity = await actAsUserWith(['ssm:GetParameters']);

    const error = await rejection(bed.fetch([secret(0, { objectName: 'app/db' })], { identity }));

    expect(error).toMatchObject({ grpcStatus: status.PERMISSION_DENIED, code: 'AccessDenied' });
    expect(error.message).toMatch(
      /^objects\[0\] "app\/db": Secrets Manager GetSecretValue in us-east-1 failed with AccessDenied .*grant secretsmanager:GetSecretValue \(and kms:Decrypt for a customer managed key\) on it to the pod's role/,
    );
  });

  it('says which permission to grant when GetParameters is denied, naming every object of the call', async () => {
    await putParameter(PRIMARY, '/app/a', 'a');
    await putParameter(PRIMARY, '/app/b', 'b');
    const identity = await actAsUserWith(['secretsmanager:GetSecretValue']);

    const error = await rejection(
      bed.fetch([parameter(0, { objectName: '/app/a' }), parameter(1, { objectName: '/app/b' })], { identity }),
    );

    expect(error).toMatchObject({ grpcStatus: status.PERMISSION_DENIED, code: 'AccessDenied' });
    expect(error.message).toMatch(/^objects\[0\] "\/app\/a", objects\[1\] "\/app\/b": .*grant ssm:GetParameters/);
  });
});
