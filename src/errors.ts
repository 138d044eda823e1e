import { status } from '@grpc/grpc-js';
import { showDeceptiveCharacters } from './visibleText.js';

/**
 * Why a Mount failed, as a short stable word. It prefixes the message the driver shows in pod events and is
 * the label of our error metrics, so operators can alert on a cause without parsing prose.
 */
export type ErrorCode =
  | 'InvalidMountRequest'
  | 'InvalidSecretProviderClass'
  | 'MissingServiceAccountToken'
  | 'InvalidServiceAccountToken'
  | 'MissingRoleAnnotation'
  | 'RegionNotFound'
  | 'CredentialsRefused'
  | 'CredentialsUnavailable'
  | 'AccessDenied'
  | 'ObjectNotFound'
  | 'DecryptionFailure'
  | 'InvalidObjectValue'
  | 'AwsClientError'
  | 'RegionUnavailable'
  | 'KubernetesUnavailable'
  | 'DeadlineExceeded'
  | 'Cancelled'
  | 'Internal';

/** The one error type of the provider: a gRPC status, a stable code, and a message written for a person. */
export class ProviderError extends Error {
  override readonly name = 'ProviderError';

  constructor(
    readonly grpcStatus: status,
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(boundedMessage(message), options);
  }
}

const MAX_QUOTED = 200;
const MAX_MESSAGE = 4000;

/**
 * Messages quote what the user wrote (names, aliases, paths), and a SecretProviderClass can hold a name of any
 * length: a 70,000-character objectName once made a 140,000-character message, which grpc-js clients refuse as
 * a trailer (8 KiB by default) and which no pod event shows. A long quoted value keeps its start, and the whole
 * message keeps its start and its end (what to fix). Messages reach pod events and terminals, so control and
 * direction-changing characters are shown as their code points.
 */
function boundedMessage(message: string): string {
  // A quoted name may hold controls or direction overrides; shown as code points, it cannot disguise the message.
  const visible = showDeceptiveCharacters(message);
  // Every quoted pair is matched, short ones too, so quotes pair up left to right: matching only long ones
  // would take the text between two short quoted names for a quoted value.
  const shortened = visible.replace(/"([^"]*)"/g, (quoted, value: string) =>
    value.length > MAX_QUOTED ? `"${value.slice(0, MAX_QUOTED - 40)}…" (${value.length} characters)` : quoted,
  );
  if (shortened.length <= MAX_MESSAGE) return shortened;
  return `${shortened.slice(0, MAX_MESSAGE - 500)} … ${shortened.slice(-497)}`;
}

/** A SecretProviderClass (or request) the user must fix: nothing was fetched. */
export function invalidSpc(message: string): ProviderError {
  return new ProviderError(status.INVALID_ARGUMENT, 'InvalidSecretProviderClass', message);
}

/** An object's value does not fit the SecretProviderClass (not JSON, a jmesPath finds nothing): fix either. */
export function invalidObjectValue(message: string): ProviderError {
  return new ProviderError(status.INVALID_ARGUMENT, 'InvalidObjectValue', message);
}

export function invalidRequest(message: string): ProviderError {
  return new ProviderError(status.INVALID_ARGUMENT, 'InvalidMountRequest', message);
}

export function isProviderError(err: unknown): err is ProviderError {
  return err instanceof ProviderError;
}

/** Any thrown thing as a ProviderError. An unexpected error is a bug of ours: its name is enough for the user. */
export function asProviderError(err: unknown): ProviderError {
  if (isProviderError(err)) return err;
  const name = err instanceof Error ? err.name : typeof err;
  return new ProviderError(status.INTERNAL, 'Internal', `internal error in the provider (${name})`, { cause: err });
}
