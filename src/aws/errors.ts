/**
 * What an AWS failure means for a Mount. Two questions are asked of every SDK or network error: is the region
 * unhealthy (then fail over, spec §4), and what should the person reading the pod event do about it (spec §7).
 */

import { ProviderError, type ErrorCode } from '../errors.js';
import type { AwsAction } from './types.js';

/**
 * An error AWS reported inside a successful answer (a `BatchGetSecretValue` `Errors[]` entry, an SSM
 * `InvalidParameters` name) or an answer that left an object out. Named like the SDK exception of the same
 * code, so it is classified the same way.
 */
export class AnswerError extends Error {
  constructor(
    override readonly name: string,
    message: string,
  ) {
    super(message);
  }
}

/** SSM listed the name in `InvalidParameters`: the parameter, its version or its label does not exist. */
export const INVALID_PARAMETERS = 'InvalidParameters';
/** The answer neither held the object nor reported an error for it: treated like a truncated answer. */
export const MISSING_FROM_ANSWER = 'MissingFromAnswer';

const THROTTLING: ReadonlySet<string> = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'ProvisionedThroughputExceededException',
  'SlowDown',
]);

/** Server-side failures AWS names explicitly; an SDK exception of these names also carries `$fault: 'server'`. */
const SERVER_FAULTS: ReadonlySet<string> = new Set([
  'InternalServiceError',
  'InternalServerError',
  'InternalFailure',
  'InternalError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  MISSING_FROM_ANSWER,
]);

const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

const NOT_FOUND: ReadonlySet<string> = new Set([
  'ResourceNotFoundException',
  'ParameterNotFound',
  'ParameterVersionNotFound',
  'ParameterVersionLabelNotFound',
  INVALID_PARAMETERS,
]);

const ACCESS_DENIED: ReadonlySet<string> = new Set(['AccessDeniedException', 'AccessDenied', 'AccessDeniedError']);

const CREDENTIALS_REFUSED: ReadonlySet<string> = new Set([
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'ExpiredTokenException',
  'ExpiredToken',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'MissingAuthenticationToken',
]);

/** Errors about the request itself (a malformed name or version): the user must fix it. */
const MALFORMED_REQUEST: ReadonlySet<string> = new Set([
  'InvalidParameterException',
  'ValidationException',
  'InvalidKeyId',
  'InvalidNextTokenException',
]);

interface ErrorFields {
  name: string;
  message: string;
  code?: unknown;
  $fault?: unknown;
  $retryable?: { throttling?: boolean };
  $metadata?: { httpStatusCode?: number; attempts?: number };
  $response?: unknown;
  cause?: unknown;
  /** The message was replaced: the original must not reach a log either. */
  sanitized?: boolean;
}

/** The SDK could not read the answer's body: cut short, or not the service's JSON (e.g. a proxy's page). */
function isUnreadable(e: ErrorFields): boolean {
  return e.$response !== undefined && (e.name === 'SyntaxError' || /deseriali[sz]ation/i.test(e.message));
}

function fieldsOf(err: unknown): ErrorFields | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const raw = err as Partial<ErrorFields>;
  // Read one by one: a spread would lose what is not enumerable (Error's own fields, the SDK's `$response`).
  const e: ErrorFields = {
    name: typeof raw.name === 'string' ? raw.name : '',
    message: typeof raw.message === 'string' ? raw.message : '',
    code: raw.code,
    $fault: raw.$fault,
    $retryable: raw.$retryable,
    $metadata: raw.$metadata,
    $response: raw.$response,
    cause: raw.cause,
  };
  if (!isUnreadable(e)) return e;
  // The parser's message may quote a fragment of the body, which may be a secret: it is never passed on.
  const httpStatus = e.$metadata?.httpStatusCode;
  const message = `HTTP ${httpStatus ?? 'answer'} with a body that could not be read (cut short or not AWS JSON)`;
  // An unreadable 403 is a denial all the same (moto's IAM answers XML to JSON services; so may a proxy).
  return { ...e, name: httpStatus === 403 ? 'AccessDenied' : e.name, message, sanitized: true };
}

/** AWS refused the call for lack of permission. */
export function isAccessDenied(err: unknown): boolean {
  return ACCESS_DENIED.has(fieldsOf(err)?.name ?? '');
}

/** Our own deadline fired: the SDK rejects with an AbortError when the Mount's `abortSignal` aborts. */
export function isAborted(err: unknown): boolean {
  return fieldsOf(err)?.name === 'AbortError';
}

function isNetworkFailure(e: ErrorFields): boolean {
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  if (e.name === 'TimeoutError' || /socket hang up/i.test(e.message)) return true;
  // A success or server error whose body was cut short or garbled; an unreadable 4xx is about the request.
  const httpStatus = e.$metadata?.httpStatusCode;
  if (e.sanitized && (httpStatus === undefined || httpStatus < 400 || httpStatus >= 500)) return true;
  const cause = fieldsOf(e.cause);
  return cause !== undefined && typeof cause.code === 'string' && NETWORK_CODES.has(cause.code);
}

/**
 * True when the error says the region is unhealthy rather than the request wrong: 5xx, throttling that outlived
 * the SDK's retries, timeouts, network and truncated answers. Those, and only those, justify a failover region.
 */
export function isRegionalFault(err: unknown): boolean {
  const e = fieldsOf(err);
  if (e === undefined || isAborted(err)) return false;
  if (NOT_FOUND.has(e.name) || ACCESS_DENIED.has(e.name) || CREDENTIALS_REFUSED.has(e.name)) return false;
  if (THROTTLING.has(e.name) || e.$retryable?.throttling === true) return true;
  if (SERVER_FAULTS.has(e.name) || e.$fault === 'server') return true;
  const httpStatus = e.$metadata?.httpStatusCode;
  if (httpStatus !== undefined && httpStatus >= 500) return true;
  if (e.$fault === 'client') return false;
  return isNetworkFailure(e);
}

/** How an AWS call ended, for metrics: a small fixed set, so it can be a label. */
export type CallOutcome = 'ok' | 'throttled' | 'server_error' | 'network' | 'aborted' | 'client_error';

/** AWS throttled the call (after the SDK's retries), or the ProviderError made of it says so. */
export function isThrottling(err: unknown): boolean {
  const cause = err instanceof ProviderError ? err.cause : err;
  const e = fieldsOf(cause);
  return e !== undefined && !isAborted(cause) && (THROTTLING.has(e.name) || e.$retryable?.throttling === true);
}

export function callOutcome(err: unknown): Exclude<CallOutcome, 'ok'> {
  const e = fieldsOf(err);
  if (e === undefined) return 'client_error';
  if (isAborted(err)) return 'aborted';
  if (THROTTLING.has(e.name) || e.$retryable?.throttling === true) return 'throttled';
  if (!isRegionalFault(err)) return 'client_error';
  const httpStatus = e.$metadata?.httpStatusCode;
  const server = SERVER_FAULTS.has(e.name) || e.$fault === 'server' || (httpStatus !== undefined && httpStatus >= 500);
  return server ? 'server_error' : 'network';
}

export interface ErrorContext {
  /** The objects the failed call was for, as `describeObject` writes them. */
  objects: readonly string[];
  region: string;
  action: AwsAction;
}

const SERVICE_NAMES: Record<AwsAction, string> = {
  BatchGetSecretValue: 'Secrets Manager',
  GetSecretValue: 'Secrets Manager',
  GetParameters: 'SSM Parameter Store',
  GetParametersByPath: 'SSM Parameter Store',
  'BatchGetSecretValue (name filter)': 'Secrets Manager',
  ListSecrets: 'Secrets Manager',
};

const IAM_ACTIONS: Record<AwsAction, string> = {
  BatchGetSecretValue: 'secretsmanager:GetSecretValue',
  GetSecretValue: 'secretsmanager:GetSecretValue',
  GetParameters: 'ssm:GetParameters',
  GetParametersByPath: 'ssm:GetParametersByPath',
  'BatchGetSecretValue (name filter)':
    'secretsmanager:BatchGetSecretValue, secretsmanager:ListSecrets and secretsmanager:GetSecretValue',
  ListSecrets: 'secretsmanager:ListSecrets',
};

const MAX_LISTED_OBJECTS = 5;
const MAX_AWS_MESSAGE = 300;

/** Objects as a message names them: the first few, then how many more. */
export function listObjects(objects: readonly string[]): string {
  if (objects.length <= MAX_LISTED_OBJECTS) return objects.join(', ');
  return `${objects.slice(0, MAX_LISTED_OBJECTS).join(', ')} and ${objects.length - MAX_LISTED_OBJECTS} more`;
}

/** AWS's own message never holds a secret value; it is shortened so one pod event stays readable. */
function awsMessage(e: ErrorFields): string {
  const text = e.message.replace(/\s+/g, ' ').trim();
  if (text === '') return '';
  return ` (${text.length > MAX_AWS_MESSAGE ? `${text.slice(0, MAX_AWS_MESSAGE)}…` : text})`;
}

interface Classification {
  code: ErrorCode;
  fix: string;
}

function classify(e: ErrorFields, err: unknown, context: ErrorContext): Classification {
  const subjects = context.objects.length === 1 ? 'it' : 'them';
  if (isAborted(err)) {
    return {
      code: 'DeadlineExceeded',
      fix: 'the Mount ran out of time; check the network path to AWS and the provider logs',
    };
  }
  if (ACCESS_DENIED.has(e.name)) {
    const kms = context.action.startsWith('GetParameters') ? 'for a SecureString' : 'for a customer managed key';
    return {
      code: 'AccessDenied',
      fix: `grant ${IAM_ACTIONS[context.action]} (and kms:Decrypt ${kms}) on ${subjects} to the pod's role`,
    };
  }
  if (e.name === 'DecryptionFailure') {
    return {
      code: 'DecryptionFailure',
      fix: `AWS could not decrypt ${subjects} with its KMS key; grant kms:Decrypt on that key to the pod's role`,
    };
  }
  if (NOT_FOUND.has(e.name)) {
    const what = context.action === 'GetParameters' ? 'objectName, objectVersion/objectVersionLabel' : 'objectName';
    return { code: 'ObjectNotFound', fix: `check ${what} and region` };
  }
  if (CREDENTIALS_REFUSED.has(e.name)) {
    return {
      code: 'CredentialsRefused',
      fix: "AWS refused the pod's credentials; check the role's trust policy and the node's clock",
    };
  }
  if (isRegionalFault(err)) {
    return {
      code: 'RegionUnavailable',
      fix: 'the region is unhealthy or unreachable; the Mount will be retried',
    };
  }
  if (MALFORMED_REQUEST.has(e.name)) {
    return {
      code: 'AwsClientError',
      fix: 'AWS rejected the request; check objectName, objectVersion and objectVersionLabel',
    };
  }
  if (e.$fault === 'client') {
    return {
      code: 'AwsClientError',
      fix: `AWS refused the request in its current state (e.g. a secret scheduled for deletion); fix ${subjects} in AWS`,
    };
  }
  return { code: 'Internal', fix: 'unexpected failure; see the provider logs' };
}

/**
 * The ProviderError a person reads in the pod's events: which objects, which region and service, AWS's error
 * code and message, and what to fix. The message is built from names and AWS's text only, never a value.
 */
export function toProviderError(err: unknown, context: ErrorContext): ProviderError {
  if (err instanceof ProviderError) return err;
  const e = fieldsOf(err) ?? { name: 'Error', message: String(err) };
  const { code, fix } = classify(e, err, context);
  const name = errorName(e);
  const attempts = e.$metadata?.attempts ?? 1;
  const tries = attempts > 1 ? ` after ${attempts} attempts` : '';
  const message =
    `${listObjects(context.objects)}: ${SERVICE_NAMES[context.action]} ${context.action} in ${context.region} ` +
    `failed with ${name}${awsMessage(e)}${tries}; ${fix}`;
  const cause = e.sanitized ? Object.assign(new Error(e.message), { name }) : err;
  return new ProviderError(code, message, { cause });
}

/**
 * The name a message gives an error. A bare network error says more by its code (ECONNRESET) than by its class
 * name; and the SDK's HTTP handler renames a reset or broken connection `TimeoutError` (its list of "timeout"
 * codes holds ECONNRESET and EPIPE), which would tell the reader the peer was slow when it hung up.
 */
function errorName(e: ErrorFields): string {
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (code !== undefined && (e.name === 'Error' || e.name === '')) return code;
  if (code !== undefined && e.name === 'TimeoutError' && code !== 'ETIMEDOUT') return code;
  return e.name || 'Error';
}

/** The SDK's advice, on a line of its own, to read a field (`$response`) that no one reading a pod event can see. */
const RESPONSE_ADVICE = /^.*\$response.*$/gm;

/**
 * An SDK error as a message may quote it: its name and one bounded line of its message (sanitized when the body
 * was unreadable, without the SDK's `$response` advice), and whether the call reached the service at all (an HTTP
 * status or a fault was recorded) rather than failing inside the SDK or on the way.
 */
export function readableAwsError(err: unknown): { name: string; message: string; reachedService: boolean } {
  const e = fieldsOf(err) ?? { name: '', message: String(err) };
  const text = e.message.replace(RESPONSE_ADVICE, ' ').replace(/\s+/g, ' ').trim();
  return {
    name: errorName(e),
    message: text.length > MAX_AWS_MESSAGE ? `${text.slice(0, MAX_AWS_MESSAGE)}…` : text,
    reachedService: e.$metadata?.httpStatusCode !== undefined || e.$fault !== undefined,
  };
}
