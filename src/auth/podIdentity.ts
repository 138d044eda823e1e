import { status } from '@grpc/grpc-js';
import type { AddressType, MountConfig } from '../config/types.js';
import { ProviderError } from '../errors.js';
import type { AwsIdentity, IdentityResolver } from './identity.js';

export const POD_IDENTITY_AUDIENCE = 'pods.eks.amazonaws.com';

export interface PodIdentityOptions {
  ipv4Endpoint: string;
  ipv6Endpoint: string;
  /** Per attempt; undefined leaves it to the mount's own deadline. */
  timeoutMs: number | undefined;
}

interface AgentCredentials {
  AccessKeyId?: string;
  SecretAccessKey?: string;
  Token?: string;
  Expiration?: string;
}

/** Tried in order; `auto` really falls back to IPv6 when the IPv4 agent cannot be reached (ASCP's does not). */
function endpointsFor(type: AddressType, options: PodIdentityOptions): Array<[string, string]> {
  if (type === 'ipv4') return [['IPv4', options.ipv4Endpoint]];
  if (type === 'ipv6') return [['IPv6', options.ipv6Endpoint]];
  return [
    ['IPv4', options.ipv4Endpoint],
    ['IPv6', options.ipv6Endpoint],
  ];
}

/** EKS Pod Identity: credentials from the node's Pod Identity agent, for the pod's own token. */
export class PodIdentityResolver implements IdentityResolver {
  constructor(private readonly options: PodIdentityOptions) {}

  async resolve(config: MountConfig, _region: string, signal: AbortSignal): Promise<AwsIdentity> {
    const { namespace, serviceAccountName, name: podName } = config.pod;
    const token = config.tokens[POD_IDENTITY_AUDIENCE]?.token;
    if (!token) throw missingToken(namespace, podName);
    const description = `EKS Pod Identity (service account ${namespace}/${serviceAccountName})`;
    const unreachable: string[] = [];
    for (const [family, url] of endpointsFor(config.preferredAddressType, this.options)) {
      const answer = await this.ask(url, token, signal).catch((err: unknown) => {
        if (signal.aborted) throw err;
        unreachable.push(`${family} ${url}: ${describeNetworkError(err)}`);
        return undefined;
      });
      if (!answer) continue;
      return {
        key: `podidentity|${namespace}|${serviceAccountName}`,
        credentials: await credentialsFrom(answer, url, description),
        description,
      };
    }
    throw new ProviderError(
      status.UNAVAILABLE,
      'CredentialsUnavailable',
      `cannot reach the EKS Pod Identity agent for ${description}: ${unreachable.join('; ')}. Check that the ` +
        `eks-pod-identity-agent add-on runs on the node` +
        (config.preferredAddressType === 'auto' ? '' : ', or set preferredAddressType to auto'),
    );
  }

  private async ask(url: string, token: string, signal: AbortSignal): Promise<Response> {
    const timeout = this.options.timeoutMs;
    const attemptSignal = timeout === undefined ? signal : AbortSignal.any([signal, AbortSignal.timeout(timeout)]);
    return fetch(url, { headers: { Authorization: token }, signal: attemptSignal });
  }
}

async function credentialsFrom(answer: Response, url: string, description: string) {
  if (!answer.ok) {
    // The agent's error bodies are short JSON explanations (no credentials); they help the user fix the association.
    const body = (await answer.text()).slice(0, 500);
    const code = answer.status >= 500 ? status.UNAVAILABLE : status.PERMISSION_DENIED;
    throw new ProviderError(
      code,
      answer.status >= 500 ? 'CredentialsUnavailable' : 'CredentialsRefused',
      `the EKS Pod Identity agent at ${url} refused ${description} (HTTP ${answer.status}): ${body}. Check that a ` +
        `Pod Identity association exists for this service account`,
    );
  }
  const parsed = (await answer.json().catch(() => ({}))) as AgentCredentials;
  if (!parsed.AccessKeyId || !parsed.SecretAccessKey) {
    throw new ProviderError(
      status.UNAVAILABLE,
      'CredentialsUnavailable',
      `the EKS Pod Identity agent at ${url} answered without credentials for ${description}`,
    );
  }
  return {
    accessKeyId: parsed.AccessKeyId,
    secretAccessKey: parsed.SecretAccessKey,
    sessionToken: parsed.Token,
    expiration: parsed.Expiration ? new Date(parsed.Expiration) : undefined,
  };
}

function describeNetworkError(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'TimeoutError') return 'timed out';
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? err.message;
  }
  return String(err);
}

function missingToken(namespace: string, pod: string): ProviderError {
  return new ProviderError(
    status.INVALID_ARGUMENT,
    'MissingServiceAccountToken',
    `no service account token for audience "${POD_IDENTITY_AUDIENCE}" in the Mount request of pod ` +
      `${namespace}/${pod} (usePodIdentity is "true"): add {audience: "${POD_IDENTITY_AUDIENCE}"} to the ` +
      `CSIDriver's tokenRequests (Helm value secrets-store-csi-driver.tokenRequests of the driver chart)`,
  );
}
