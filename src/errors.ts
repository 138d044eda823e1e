import { status } from '@grpc/grpc-js';
import { showDeceptiveCharacters } from './visibleText.js';

interface ErrorKind {
  /** The gRPC status of every Mount failing with the code. */
  status: status;
  /** What happened, for the README's error table. */
  meaning: string;
  /** Where to look first; each message says more precisely what to fix. */
  fix: string;
}

/**
 * Every error code with its one gRPC status, its meaning and its fix: the only place a status is chosen. The code is
 * a short stable word that prefixes the message the driver shows in pod events, is sent as a trailer and labels
 * `aws_provider_mounts_total`, so operators can alert on a cause without parsing prose. The driver retries every
 * failed Mount whatever its status (kubelet calls NodePublishVolume again), so a status only tells a person what
 * kind of cause it is: one kind per code, and a code per cause someone fixes in one place. The README's error table
 * is checked against this one by a unit test (test/unit/errorTable.test.ts).
 */
export const ERROR_TABLE = {
  InvalidMountRequest: {
    status: status.INVALID_ARGUMENT,
    meaning: 'the Mount request is not what the driver sends (attributes, secrets or permission are malformed)',
    fix: "what calls the provider's socket: only the Secrets Store CSI driver should",
  },
  InvalidSecretProviderClass: {
    status: status.INVALID_ARGUMENT,
    meaning: 'the SecretProviderClass (or the volume attributes) is invalid or over a limit; nothing was fetched',
    fix: 'the field the message names',
  },
  MissingServiceAccountToken: {
    status: status.INVALID_ARGUMENT,
    meaning: "the Mount request carries no service account token for the audience the pod's identity needs",
    fix: "the audience in the CSIDriver's `tokenRequests`",
  },
  InvalidServiceAccountToken: {
    status: status.UNAUTHENTICATED,
    meaning: "the Mount's service account token is not the pod's own current one; nothing was fetched",
    fix: 'the check the message names (signature, issuer, audience, subject, lifetime, pod)',
  },
  MissingRoleAnnotation: {
    status: status.FAILED_PRECONDITION,
    meaning: "the pod's ServiceAccount has no `eks.amazonaws.com/role-arn` annotation",
    fix: 'the ServiceAccount\'s annotation, or `usePodIdentity: "true"`',
  },
  RegionNotFound: {
    status: status.FAILED_PRECONDITION,
    meaning: "no region, or an unknown one, from the provider's `AWS_REGION` or the node's label",
    fix: '`region` in the SecretProviderClass, `awsRegion` in the Helm values, or the node\'s region label',
  },
  CredentialsRefused: {
    status: status.PERMISSION_DENIED,
    meaning: "STS or the Pod Identity agent refused the pod's identity, or AWS refused the credentials they issued",
    fix: "the role's trust policy, the Pod Identity association, the node's clock",
  },
  CredentialsUnavailable: {
    status: status.UNAVAILABLE,
    meaning: 'STS or the Pod Identity agent cannot be reached, keeps failing or answered without credentials',
    fix: 'the network path to STS, the eks-pod-identity-agent add-on; the next Mount tries again',
  },
  AccessDenied: {
    status: status.PERMISSION_DENIED,
    meaning: "AWS denied the pod's role the call on an object",
    fix: "the role's policy: `secretsmanager:GetSecretValue` or `ssm:GetParameters` (and `kms:Decrypt`) on the objects",
  },
  DecryptionFailure: {
    status: status.PERMISSION_DENIED,
    meaning: 'AWS could not decrypt an object with its KMS key',
    fix: "`kms:Decrypt` on the object's key for the pod's role",
  },
  ObjectNotFound: {
    status: status.NOT_FOUND,
    meaning: 'no such secret, parameter, version or label in that region, or nothing matches a wildcard',
    fix: '`objectName`, `objectVersion`, `objectVersionLabel` and the region (`allowEmpty` for a wildcard)',
  },
  InvalidObjectValue: {
    status: status.INVALID_ARGUMENT,
    meaning:
      "an object's value does not fit the SecretProviderClass (not JSON for `jmesPath` or `jsonKeys`, a path finds " +
      'nothing, not base64 or hex for `objectEncoding`, a key or name that is no safe file name)',
    fix: 'the `jmesPath` entry, `objectEncoding`, or the value (or key) in AWS',
  },
  AwsClientError: {
    status: status.FAILED_PRECONDITION,
    meaning: 'AWS refused the request for another reason of its own: a malformed name or version, a secret ' +
      'scheduled for deletion',
    fix: "the object's fields in the SecretProviderClass, or the object in AWS",
  },
  RegionUnavailable: {
    status: status.UNAVAILABLE,
    meaning: 'the region (and the failover region) kept failing: 5xx, throttling, timeouts, connections refused',
    fix: 'AWS\'s health in that region; `failoverRegion` rides out a regional outage',
  },
  KubernetesUnavailable: {
    status: status.UNAVAILABLE,
    meaning: 'the API server cannot be reached, fails, or does not serve its service account issuer',
    fix: 'the API server and the network path to it; the next Mount tries again',
  },
  KubernetesAccessDenied: {
    status: status.PERMISSION_DENIED,
    meaning: "the API server refused the provider's own read (RBAC)",
    fix: "the provider's ClusterRole (the chart grants what it needs)",
  },
  KubernetesNotFound: {
    status: status.NOT_FOUND,
    meaning: "the pod's ServiceAccount, the pod or its node does not exist (any more)",
    fix: "the pod's ServiceAccount (recreate it), or the pod",
  },
  DeadlineExceeded: {
    status: status.DEADLINE_EXCEEDED,
    meaning: 'the Mount took longer than `--mount-timeout` (waiting for its turn included)',
    fix: 'what the message says it was waiting for (AWS, the API server, its turn)',
  },
  Cancelled: {
    status: status.UNAVAILABLE,
    meaning: 'the provider is draining, or the driver cancelled the call',
    fix: 'nothing: the driver retries the Mount',
  },
  Internal: {
    status: status.INTERNAL,
    meaning: 'the provider failed before or outside any call: its environment (`HOME`, `AWS_*`, config files) or a bug',
    fix: "the provider's logs",
  },
} as const satisfies Record<string, ErrorKind>;

/** Why a Mount failed, as a short stable word (see ERROR_TABLE). */
export type ErrorCode = keyof typeof ERROR_TABLE;

/** The one error type of the provider: a stable code, its gRPC status from ERROR_TABLE, and a message for a person. */
export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  readonly grpcStatus: status;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(boundedMessage(message), options);
    this.grpcStatus = ERROR_TABLE[code].status;
  }
}

/** A status as logs and docs spell it (NOT_FOUND). */
export function statusName(code: status): string {
  return status[code];
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
  return new ProviderError('InvalidSecretProviderClass', message);
}

export function invalidRequest(message: string): ProviderError {
  return new ProviderError('InvalidMountRequest', message);
}

export function isProviderError(err: unknown): err is ProviderError {
  return err instanceof ProviderError;
}

/** Any thrown thing as a ProviderError. An unexpected error is a bug of ours: its name is enough for the user. */
export function asProviderError(err: unknown): ProviderError {
  if (isProviderError(err)) return err;
  const name = err instanceof Error ? err.name : typeof err;
  return new ProviderError('Internal', `internal error in the provider (${name})`, { cause: err });
}
