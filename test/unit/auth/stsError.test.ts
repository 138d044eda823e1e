import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { abortError } from '../../../src/abortable.js';
import { stsError } from '../../../src/auth/stsError.js';

const context = {
  action: 'AssumeRoleWithWebIdentity',
  region: 'us-east-1',
  description: 'IRSA role arn:aws:iam::123456789012:role/app (service account shop/web)',
  fix: 'check the trust policy',
};

describe('stsError', () => {
  it('an abandoned STS call (deadline, or a shared call given up) is UNAVAILABLE, not a refusal of the role', () => {
    const controller = new AbortController();
    controller.abort(new Error('deadline'));

    const error = stsError(abortError(controller.signal), context);

    expect(error.grpcStatus).toBe(status.UNAVAILABLE);
    expect(error.code).toBe('CredentialsUnavailable');
    expect(error.message).toContain('did not answer in time');
    expect(error.message).not.toContain('trust policy');
  });

  it('an STS refusal stays PERMISSION_DENIED with the fix', () => {
    const refusal = Object.assign(new Error('Not authorized to perform sts:AssumeRoleWithWebIdentity'), {
      name: 'AccessDenied',
      $fault: 'client',
      $metadata: { httpStatusCode: 403 },
    });

    const error = stsError(refusal, context);

    expect(error.grpcStatus).toBe(status.PERMISSION_DENIED);
    expect(error.code).toBe('CredentialsRefused');
    expect(error.message).toContain('check the trust policy');
  });
});
