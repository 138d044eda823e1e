import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { status } from '@grpc/grpc-js';
import { LRUCache } from 'lru-cache';
import type { MountConfig } from '../config/types.js';
import { ProviderError } from '../errors.js';
import type { ClusterReader } from '../k8s/cluster.js';
import { ROLE_ARN_ANNOTATION } from '../k8s/cluster.js';
import type { AwsIdentity, IdentityResolver } from './identity.js';
import { roleSessionName } from './sessionName.js';
import { stsError } from './stsError.js';

export const IRSA_AUDIENCE = 'sts.amazonaws.com';

/**
 * IAM Roles for Service Accounts: the role annotated on the pod's ServiceAccount, assumed with the pod's own
 * projected token through the regional STS endpoint (FIPS and endpoint overrides come from the SDK's env).
 */
export class IrsaResolver implements IdentityResolver {
  // STS web-identity calls are unsigned, so one client per region serves every identity.
  private readonly stsClients = new LRUCache<string, STSClient>({
    max: 64,
    dispose: (client) => client.destroy(),
  });

  constructor(private readonly cluster: ClusterReader) {}

  async resolve(config: MountConfig, region: string, signal: AbortSignal): Promise<AwsIdentity> {
    const { namespace, serviceAccountName, name: podName } = config.pod;
    const token = config.tokens[IRSA_AUDIENCE]?.token;
    if (!token) throw missingToken(namespace, podName);
    const roleArn = await this.cluster.serviceAccountRoleArn(namespace, serviceAccountName);
    if (!roleArn) throw missingRole(namespace, serviceAccountName);
    const description = `IRSA role ${roleArn} (service account ${namespace}/${serviceAccountName})`;
    try {
      const answer = await this.stsClient(region).send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: roleArn,
          RoleSessionName: roleSessionName(namespace, podName),
          WebIdentityToken: token,
        }),
        { abortSignal: signal },
      );
      const credentials = answer.Credentials;
      if (!credentials?.AccessKeyId || !credentials.SecretAccessKey) {
        throw new ProviderError(status.UNAVAILABLE, 'CredentialsUnavailable', `STS (${region}) returned no credentials for ${description}`);
      }
      return {
        key: `irsa|${namespace}|${serviceAccountName}|${roleArn}`,
        credentials: {
          accessKeyId: credentials.AccessKeyId,
          secretAccessKey: credentials.SecretAccessKey,
          sessionToken: credentials.SessionToken,
          expiration: credentials.Expiration,
        },
        description,
      };
    } catch (err) {
      if (err instanceof ProviderError) throw err;
      throw stsError(err, {
        action: 'AssumeRoleWithWebIdentity',
        region,
        description,
        fix:
          `check that the role's trust policy allows "system:serviceaccount:${namespace}:${serviceAccountName}" ` +
          `through the cluster's OIDC provider with audience ${IRSA_AUDIENCE}`,
      });
    }
  }

  private stsClient(region: string): STSClient {
    let client = this.stsClients.get(region);
    if (!client) {
      client = new STSClient({ region, maxAttempts: 3 });
      this.stsClients.set(region, client);
    }
    return client;
  }
}

function missingToken(namespace: string, pod: string): ProviderError {
  return new ProviderError(
    status.INVALID_ARGUMENT,
    'MissingServiceAccountToken',
    `no service account token for audience "${IRSA_AUDIENCE}" in the Mount request of pod ${namespace}/${pod}: ` +
      `add {audience: "${IRSA_AUDIENCE}"} to the CSIDriver's tokenRequests (Helm value ` +
      `secrets-store-csi-driver.tokenRequests of the driver chart)`,
  );
}

function missingRole(namespace: string, serviceAccount: string): ProviderError {
  return new ProviderError(
    status.FAILED_PRECONDITION,
    'MissingRoleAnnotation',
    `service account ${namespace}/${serviceAccount} has no "${ROLE_ARN_ANNOTATION}" annotation: annotate it ` +
      `with the IAM role the pod should use, or set usePodIdentity: "true" in the SecretProviderClass to use ` +
      `EKS Pod Identity`,
  );
}
