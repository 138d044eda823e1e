import { status } from '@grpc/grpc-js';
import {
  DecryptionFailure,
  InternalServiceError,
  InvalidRequestException,
  ResourceNotFoundException,
} from '@aws-sdk/client-secrets-manager';
import { ParameterNotFound, TooManyUpdates } from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import { AnswerError, isRegionalFault, readableAwsError, toProviderError } from '../../../src/aws/errors.js';

const meta = (httpStatusCode: number, attempts = 1) => ({ $metadata: { httpStatusCode, attempts } });

/** An SDK service error the way the JSON protocol deserialiser builds one for an unmodelled code. */
function sdkError(name: string, fault: 'client' | 'server', httpStatusCode: number, extra: object = {}) {
  return Object.assign(new Error(`${name} from AWS`), { name, $fault: fault, ...meta(httpStatusCode), ...extra });
}

function networkError(code: string, message = `connect ${code}`) {
  return Object.assign(new Error(message), { code });
}

/** What the SDK throws when a body cannot be parsed: the parser's SyntaxError, with the raw response kept. */
function unreadable(httpStatusCode: number) {
  const err = Object.assign(new SyntaxError('Unexpected end of JSON input'), meta(httpStatusCode));
  // The SDK hides the raw response from enumeration, as here.
  Object.defineProperty(err, '$response', { value: { statusCode: httpStatusCode }, enumerable: false });
  err.message += '\n  Deserialization error: to see the raw response, inspect the hidden field {error}.$response';
  return err;
}

const abort = Object.assign(new Error('Request aborted'), { name: 'AbortError' });

describe('isRegionalFault', () => {
  it.each<[string, unknown]>([
    ['InternalServiceError (500)', new InternalServiceError({ message: 'boom', ...meta(500, 3) })],
    ['an unmodelled 503', sdkError('ServiceUnavailable', 'server', 503)],
    ['a 502 from a load balancer', sdkError('UnknownError', 'client', 502)],
    ['ThrottlingException', sdkError('ThrottlingException', 'client', 400)],
    ['Throttling (query protocol)', sdkError('Throttling', 'client', 400)],
    ['TooManyRequestsException', sdkError('TooManyRequestsException', 'client', 429)],
    ['RequestLimitExceeded', sdkError('RequestLimitExceeded', 'client', 400)],
    ['a modelled error marked as throttling', Object.assign(new TooManyUpdates({ message: 'x', ...meta(400) }), { $retryable: { throttling: true } })],
    ['ECONNREFUSED', networkError('ECONNREFUSED')],
    ['ECONNRESET', networkError('ECONNRESET')],
    ['EPIPE', networkError('EPIPE')],
    ['ENOTFOUND', networkError('ENOTFOUND', 'getaddrinfo ENOTFOUND secretsmanager.example')],
    ['EAI_AGAIN', networkError('EAI_AGAIN')],
    ['socket hang up', new Error('socket hang up')],
    ['TimeoutError', Object.assign(new Error('timed out'), { name: 'TimeoutError' })],
    ['a truncated 200 answer', unreadable(200)],
    ['an unreadable 500 answer', unreadable(500)],
    ['an object missing from an answer', new AnswerError('MissingFromAnswer', 'not there')],
    ['a batch Errors[] entry InternalServiceError', new AnswerError('InternalServiceError', 'x')],
  ])('true for %s', (_name, err) => {
    expect(isRegionalFault(err)).toBe(true);
  });

  it.each<[string, unknown]>([
    ['ResourceNotFoundException', new ResourceNotFoundException({ message: 'x', ...meta(400) })],
    ['ParameterNotFound', new ParameterNotFound({ message: 'x', ...meta(400) })],
    ['ParameterVersionNotFound', sdkError('ParameterVersionNotFound', 'client', 400)],
    ['AccessDeniedException', sdkError('AccessDeniedException', 'client', 400)],
    ['DecryptionFailure', new DecryptionFailure({ message: 'x', ...meta(400) })],
    ['InvalidParameterException', sdkError('InvalidParameterException', 'client', 400)],
    ['InvalidRequestException', new InvalidRequestException({ message: 'x', ...meta(400) })],
    ['ValidationException', sdkError('ValidationException', 'client', 400)],
    ['UnrecognizedClientException', sdkError('UnrecognizedClientException', 'client', 400)],
    ['ExpiredTokenException', sdkError('ExpiredTokenException', 'client', 400)],
    ['an unreadable 403 (moto IAM answers XML)', unreadable(403)],
    ['an unreadable 400', unreadable(400)],
    ['InvalidParameters of SSM', new AnswerError('InvalidParameters', 'x')],
    ['our own deadline (AbortError)', abort],
    ['a programming error', new TypeError('x is undefined')],
    ['a non-error', 'oops'],
  ])('false for %s', (_name, err) => {
    expect(isRegionalFault(err)).toBe(false);
  });
});

describe('toProviderError', () => {
  const context = { objects: ['objects[0] "app/db"'], region: 'eu-west-1', action: 'GetSecretValue' as const };

  it.each<[string, unknown, status, string, RegExp]>([
    [
      'AccessDeniedException',
      Object.assign(sdkError('AccessDeniedException', 'client', 400), { message: 'User is not authorized' }),
      status.PERMISSION_DENIED,
      'AccessDenied',
      /grant secretsmanager:GetSecretValue \(and kms:Decrypt for a customer managed key\) on it to the pod's role/,
    ],
    [
      'an unreadable 403',
      unreadable(403),
      status.PERMISSION_DENIED,
      'AccessDenied',
      /AccessDenied \(HTTP 403 with a body that could not be read/,
    ],
    ['DecryptionFailure', new DecryptionFailure({ message: 'kms', ...meta(400) }), status.PERMISSION_DENIED, 'DecryptionFailure', /grant kms:Decrypt/],
    [
      'ResourceNotFoundException',
      new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", ...meta(400) }),
      status.NOT_FOUND,
      'ObjectNotFound',
      /check objectName and region/,
    ],
    ['ValidationException', sdkError('ValidationException', 'client', 400), status.FAILED_PRECONDITION, 'AwsClientError', /check objectName/],
    [
      'InvalidRequestException',
      new InvalidRequestException({ message: 'marked for deletion', ...meta(400) }),
      status.FAILED_PRECONDITION,
      'AwsClientError',
      /scheduled for deletion/,
    ],
    ['ExpiredTokenException', sdkError('ExpiredTokenException', 'client', 400), status.PERMISSION_DENIED, 'CredentialsRefused', /trust policy/],
    [
      'a 500 after retries',
      new InternalServiceError({ message: 'boom', ...meta(500, 3) }),
      status.UNAVAILABLE,
      'RegionUnavailable',
      /InternalServiceError \(boom\) after 3 attempts; the region is unhealthy/,
    ],
    ['our deadline', abort, status.DEADLINE_EXCEEDED, 'DeadlineExceeded', /ran out of time/],
    ['a programming error', new TypeError('x is undefined'), status.INTERNAL, 'Internal', /unexpected/],
  ])('maps %s', (_name, err, grpcStatus, code, fix) => {
    const error = toProviderError(err, context);
    expect(error).toMatchObject({ grpcStatus, code });
    expect(error.message).toMatch(/^objects\[0\] "app\/db": Secrets Manager GetSecretValue in eu-west-1 failed with /);
    expect(error.message).toMatch(fix);
  });

  it('names the AWS error code and quotes its message', () => {
    const err = new ResourceNotFoundException({ message: "can't find the specified secret.", ...meta(400) });
    expect(toProviderError(err, context).message).toContain(
      "failed with ResourceNotFoundException (can't find the specified secret.)",
    );
  });

  it('tells SSM users to check the version or label and to grant ssm:GetParameters', () => {
    const ssm = { objects: ['objects[1] "/p"'], region: 'us-east-1', action: 'GetParameters' as const };
    expect(toProviderError(new AnswerError('InvalidParameters', 'listed'), ssm).message).toMatch(
      /SSM Parameter Store GetParameters in us-east-1 failed with InvalidParameters \(listed\); check objectName, objectVersion\/objectVersionLabel and region/,
    );
    expect(toProviderError(sdkError('AccessDeniedException', 'client', 400), ssm).message).toMatch(
      /grant ssm:GetParameters \(and kms:Decrypt for a SecureString\)/,
    );
  });

  it('names a bare network error by its code', () => {
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', ...meta(200, 3) });
    const error = toProviderError(reset, context);
    expect(error.code).toBe('RegionUnavailable');
    expect(error.message).toContain('failed with ECONNRESET (read ECONNRESET) after 3 attempts;');
  });

  it('calls a reset connection a reset, not the timeout the SDK renames it', () => {
    // What @smithy/node-http-handler rejects with when the peer resets the socket.
    const reset = Object.assign(new Error('read ECONNRESET'), { name: 'TimeoutError', code: 'ECONNRESET', ...meta(200, 3) });
    const error = toProviderError(reset, context);
    expect(error.code).toBe('RegionUnavailable');
    expect(error.message).toContain('failed with ECONNRESET (read ECONNRESET) after 3 attempts;');
    expect(error.message).not.toContain('TimeoutError');
    expect(readableAwsError(reset).name).toBe('ECONNRESET');
    const slow = Object.assign(new Error('connect ETIMEDOUT'), { name: 'TimeoutError', code: 'ETIMEDOUT' });
    expect(toProviderError(slow, context).message).toContain('failed with TimeoutError (connect ETIMEDOUT)');
  });

  it('never passes on what a JSON parser quoted from an unreadable body, not even as the cause', () => {
    const err = new SyntaxError('Unexpected token \'h\', "hunter2-pa"... is not valid JSON');
    Object.assign(err, meta(200));
    Object.defineProperty(err, '$response', { value: {}, enumerable: false });
    const error = toProviderError(err, context);
    expect(error.code).toBe('RegionUnavailable');
    expect(error.message).toContain('failed with SyntaxError (HTTP 200 with a body that could not be read');
    expect(error.message).not.toContain('hunter2');
    expect(String((error.cause as Error).message)).not.toContain('hunter2');
  });

  it('lists at most five objects and counts the rest', () => {
    const objects = Array.from({ length: 8 }, (_, i) => `objects[${i}] "s${i}"`);
    const message = toProviderError(sdkError('ThrottlingException', 'client', 400), { ...context, objects }).message;
    expect(message).toMatch(/^objects\[0\] "s0", .*objects\[4\] "s4" and 3 more: /);
    expect(message).toMatch(/on them|region is unhealthy/);
  });
});
