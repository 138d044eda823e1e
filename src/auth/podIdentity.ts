import type { AwsCredentialIdentity } from '@aws-sdk/types';
import type { AddressType, MountConfig } from '../config/types.js';
import { withTimeout } from '../abortable.js';
import { ProviderError } from '../errors.js';
import type { IdentityPlan, IdentitySource } from './identity.js';
import type { TokenVerifier } from './tokenVerifier.js';

export const POD_IDENTITY_AUDIENCE = 'pods.eks.amazonaws.com';

export interface PodIdentityOptions {
  ipv4Endpoint: string;
  ipv6Endpoint: string;
  /** Per attempt (`--pod-identity-http-timeout`); undefined leaves it to the mount's own deadline. */
  timeoutMs: number | undefined;
  /** How the agent is called: the global fetch, or an in-process agent (tests). */
  fetch?: typeof fetch;
}

/** The agent's answer (the container credentials contract). */
interface AgentCredentials {
  AccessKeyId?: string;
  SecretAccessKey?: string;
  Token?: string;
  Expiration?: string;
}

interface Endpoint {
  family: 'IPv4' | 'IPv6';
  url: string;
}

/** Tried in order; `auto` really falls back to IPv6 when the IPv4 agent cannot be reached (ASCP's does not). */
export function endpointsFor(type: AddressType, options: PodIdentityOptions): Endpoint[] {
  const ipv4: Endpoint = { family: 'IPv4', url: options.ipv4Endpoint };
  const ipv6: Endpoint = { family: 'IPv6', url: options.ipv6Endpoint };
  if (type === 'ipv4') return [ipv4];
  if (type === 'ipv6') return [ipv6];
  return [ipv4, ipv6];
}

/**
 * EKS Pod Identity: credentials from the node's Pod Identity agent for the pod's own token. An address that
 * cannot be reached (refused, unroutable, timed out) moves on to the next one; an agent that answers, even with
 * an error, is the answer.
 */
export class PodIdentityResolver implements IdentitySource {
  constructor(
    private readonly options: PodIdentityOptions,
    private readonly tokens: TokenVerifier,
  ) {}

  async plan(config: MountConfig): Promise<IdentityPlan> {
    const { namespace, serviceAccountName } = config.pod;
    const verified = await this.tokens.podToken(config, POD_IDENTITY_AUDIENCE, ' (usePodIdentity is "true")');
    const description = `EKS Pod Identity (service account ${namespace}/${serviceAccountName})`;
    const endpoints = endpointsFor(config.preferredAddressType, this.options);
    return {
      parts: { kind: 'podidentity', namespace, serviceAccount: serviceAccountName },
      description,
      tokenId: verified.id,
      obtain: (_regions, signal) =>
        this.obtain(endpoints, verified.token, description, config.preferredAddressType, signal),
    };
  }

  private async obtain(
    endpoints: Endpoint[],
    token: string,
    description: string,
    addressType: AddressType,
    signal: AbortSignal,
  ): Promise<AwsCredentialIdentity> {
    const unreachable: string[] = [];
    for (const { family, url } of endpoints) {
      const timeout = this.options.timeoutMs;
      const attempt = timeout === undefined ? { signal, done: () => undefined } : withTimeout(signal, timeout);
      try {
        let answer: Response;
        try {
          answer = await (this.options.fetch ?? fetch)(url, { headers: { Authorization: token }, signal: attempt.signal });
        } catch (err) {
          if (signal.aborted) throw err;
          unreachable.push(`${family} ${url}: ${this.whyUnreachable(err)}`);
          continue;
        }
        try {
          return await credentialsFrom(answer, url, description);
        } catch (err) {
          if (err instanceof ProviderError || signal.aborted) throw err;
          // The agent accepted the connection but the answer did not arrive in time (or was cut short).
          throw new ProviderError(
            'CredentialsUnavailable',
            `the EKS Pod Identity agent at ${url} (${family}) did not finish its answer for ${description}: ` +
              `${attempt.signal.aborted ? this.timedOut() : this.whyUnreachable(err)}`,
            { cause: err },
          );
        }
      } finally {
        attempt.done();
      }
    }
    throw new ProviderError(
      'CredentialsUnavailable',
      `cannot reach the EKS Pod Identity agent for ${description}: tried ${unreachable.join('; ')}. Check that ` +
        `the eks-pod-identity-agent add-on runs on the node` +
        (addressType === 'auto' ? '' : ', or set preferredAddressType to auto to try both addresses'),
    );
  }

  private timedOut(): string {
    return `timed out after ${this.options.timeoutMs} ms (--pod-identity-http-timeout)`;
  }

  private whyUnreachable(err: unknown): string {
    if (!(err instanceof Error)) return String(err);
    if (err.name === 'TimeoutError') return this.timedOut();
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const code = cause?.code;
    if (code === undefined) return cause?.message ?? err.message;
    return NETWORK_REASONS[code] ? `${NETWORK_REASONS[code]} (${code})` : code;
  }
}

/**
 * The error codes of EKS Auth's AssumeRoleForPodIdentity, which the agent passes on. Only one of these is ever
 * quoted from an error body: the rest of it may echo the request, the pod's token included.
 */
const AGENT_ERROR_CODES = [
  'AccessDeniedException',
  'ExpiredTokenException',
  'InvalidTokenException',
  'InvalidRequestException',
  'InvalidParameterException',
  'ResourceNotFoundException',
  'ThrottlingException',
  'InternalServerException',
  'ServiceUnavailableException',
] as const;

/** The first known error code an agent's error body names, if any; nothing else of the body is kept. */
export function agentErrorCode(body: string): (typeof AGENT_ERROR_CODES)[number] | undefined {
  let first: { code: (typeof AGENT_ERROR_CODES)[number]; at: number } | undefined;
  for (const code of AGENT_ERROR_CODES) {
    const at = body.indexOf(code);
    if (at >= 0 && (first === undefined || at < first.at)) first = { code, at };
  }
  return first?.code;
}

/** An error body is read only this far: enough for its code, and a huge one costs nothing. */
const MAX_ERROR_BODY = 4096;

async function boundedText(answer: Response): Promise<string> {
  const reader = answer.body?.getReader();
  if (reader === undefined) return '';
  const chunks: Uint8Array[] = [];
  let length = 0;
  try {
    while (length < MAX_ERROR_BODY) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      length += value.length;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, MAX_ERROR_BODY).toString('utf8');
}

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EADDRNOTAVAIL: 'address not available on this node',
  ETIMEDOUT: 'connect timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
  UND_ERR_SOCKET: 'connection closed',
};

async function credentialsFrom(answer: Response, url: string, description: string): Promise<AwsCredentialIdentity> {
  if (!answer.ok) {
    const code = agentErrorCode(await boundedText(answer));
    const unavailable = answer.status >= 500 || answer.status === 429;
    throw new ProviderError(
      unavailable ? 'CredentialsUnavailable' : 'CredentialsRefused',
      `the EKS Pod Identity agent at ${url} ${unavailable ? 'failed for' : 'refused'} ${description} (HTTP ${answer.status}` +
        `${code === undefined ? '' : `, ${code}`}). ` +
        (unavailable
          ? 'The agent or EKS Auth is failing; the next Mount retries'
          : 'Check that a Pod Identity association exists for this service account'),
    );
  }
  // The body holds the secret key: never quote it, whatever is wrong with it.
  const text = await answer.text();
  let parsed: AgentCredentials = {};
  try {
    parsed = (JSON.parse(text) ?? {}) as AgentCredentials;
  } catch {
    // Reported below as an answer without credentials.
  }
  if (!parsed.AccessKeyId || !parsed.SecretAccessKey) {
    throw new ProviderError(
      'CredentialsUnavailable',
      `the EKS Pod Identity agent at ${url} answered without credentials for ${description}`,
    );
  }
  const expiration = parsed.Expiration === undefined ? undefined : new Date(parsed.Expiration);
  return {
    accessKeyId: parsed.AccessKeyId,
    secretAccessKey: parsed.SecretAccessKey,
    sessionToken: parsed.Token,
    ...(expiration !== undefined && !Number.isNaN(expiration.getTime()) && { expiration }),
  };
}
