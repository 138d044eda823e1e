import { AssumeRoleWithWebIdentityCommand } from '@aws-sdk/client-sts';
import type { MountConfig } from '../config/types.js';
import { ProviderError } from '../errors.js';
import type { ClusterReader } from '../k8s/cluster.js';
import { ROLE_ARN_ANNOTATION } from '../k8s/cluster.js';
import type { IdentityPlan, IdentitySource } from './identity.js';
import { fromFirstHealthyRegion } from './regionalSts.js';
import { roleSessionName } from './sessionName.js';
import type { StsClients } from './stsClients.js';
import { stsCredentials, stsError } from './stsError.js';
import type { TokenVerifier } from './tokenVerifier.js';

export const IRSA_AUDIENCE = 'sts.amazonaws.com';

/**
 * IAM Roles for Service Accounts: the role annotated on the pod's ServiceAccount (a cached, coalesced lookup),
 * assumed with the pod's own projected token (verified first, so a refused token costs no lookup) through the regional STS endpoint (FIPS and endpoint overrides
 * come from the SDK's env).
 */
export class IrsaResolver implements IdentitySource {
  constructor(
    private readonly cluster: ClusterReader,
    private readonly sts: StsClients,
    private readonly tokens: TokenVerifier,
  ) {}

  async plan(config: MountConfig): Promise<IdentityPlan> {
    const { namespace, serviceAccountName, name: podName } = config.pod;
    const { token, id: tokenId } = await this.tokens.podToken(config, IRSA_AUDIENCE);
    const roleArn = await this.cluster.serviceAccountRoleArn(namespace, serviceAccountName);
    if (!roleArn) throw missingRole(namespace, serviceAccountName);
    const description = `IRSA role ${roleArn} (service account ${namespace}/${serviceAccountName})`;
    return {
      parts: { kind: 'irsa', namespace, serviceAccount: serviceAccountName, role: roleArn },
      description,
      tokenId,
      obtain: (regions, signal) =>
        fromFirstHealthyRegion(
          regions,
          async (region) => {
            try {
              const answer = await this.sts.webIdentity(region).send(
                new AssumeRoleWithWebIdentityCommand({
                  RoleArn: roleArn,
                  RoleSessionName: roleSessionName(namespace, podName),
                  WebIdentityToken: token,
                }),
                { abortSignal: signal },
              );
              return stsCredentials(answer.Credentials, region, description);
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
          },
          signal,
        ),
    };
  }
}

function missingRole(namespace: string, serviceAccount: string): ProviderError {
  return new ProviderError(
    'MissingRoleAnnotation',
    `service account ${namespace}/${serviceAccount} has no "${ROLE_ARN_ANNOTATION}" annotation: annotate it ` +
      `with the IAM role the pod should use, or set usePodIdentity: "true" in the SecretProviderClass to use ` +
      `EKS Pod Identity`,
  );
}
