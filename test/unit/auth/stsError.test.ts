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

  it("strips the SDK's $response advice and newlines from STS's message", () => {
    const garbled = Object.assign(
      new Error(
        'Char 0x3c not allowed\nat line 1\n  Deserialization error: to see the raw response, inspect the hidden field {error}.$response on this object.',
      ),
      { name: 'AccessDenied', $fault: 'client', $metadata: { httpStatusCode: 403 } },
    );

    const error = stsError(garbled, context);

    expect(error.message).not.toContain('$response');
    expect(error.message).not.toContain('Deserialization error');
    expect(error.message).not.toContain('\n');
    expect(error.message).toContain('Char 0x3c not allowed at line 1');
  });

  it('an SDK failure that never reached STS is no refusal: INTERNAL Internal, not the trust policy', () => {
    const local = new Error('Failed to load config: HOME is not set');

    const error = stsError(local, context);

    expect(error.grpcStatus).toBe(status.INTERNAL);
    expect(error.code).toBe('Internal');
    expect(error.message).toContain('the AWS SDK failed before calling STS AssumeRoleWithWebIdentity');
    expect(error.message).toContain('HOME is not set');
    expect(error.message).not.toContain('trust policy');
  });
});
