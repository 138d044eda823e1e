import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import { ProviderError } from '../errors.js';
import type { StsClients } from './stsClients.js';
import { fromFirstHealthyRegion } from './regionalSts.js';
import { stsCredentials, stsError } from './stsError.js';

export interface ChainRequest {
  /** The credentials IRSA or Pod Identity gave; they sign the AssumeRole call. */
  base: AwsCredentialIdentity;
  baseDescription: string;
  roleArn: string;
  externalId?: string;
  durationSeconds?: number;
  sessionName: string;
  /** The Mount's region, then its failover regions: STS is asked in that order. */
  regions: readonly string[];
}

/**
 * Cross-account role chaining (`assumeRoleArn`): `sts:AssumeRole` into the target role, signed with the pod's
 * base credentials, through the regional STS endpoint of the first region that answers.
 */
export class RoleChainer {
  constructor(private readonly sts: StsClients) {}

  assume(request: ChainRequest, signal: AbortSignal): Promise<AwsCredentialIdentity> {
    return fromFirstHealthyRegion(request.regions, (region) => this.assumeIn(region, request, signal), signal);
  }

  private async assumeIn(region: string, request: ChainRequest, signal: AbortSignal): Promise<AwsCredentialIdentity> {
    const description = `role ${request.roleArn} chained from ${request.baseDescription}`;
    const client = this.sts.signedWith(region, request.base);
    try {
      const answer = await client.send(
        new AssumeRoleCommand({
          RoleArn: request.roleArn,
          RoleSessionName: request.sessionName,
          ExternalId: request.externalId,
          DurationSeconds: request.durationSeconds,
        }),
        { abortSignal: signal },
      );
      return stsCredentials(answer.Credentials, region, description);
    } catch (err) {
      if (err instanceof ProviderError) throw err;
      throw stsError(err, {
        action: 'AssumeRole',
        region,
        description,
        fix:
          `check that the trust policy of ${request.roleArn} allows the pod's base role` +
          (request.externalId === undefined ? '' : ' with this sts:ExternalId') +
          ', and that the base role may call sts:AssumeRole on it',
      });
    }
  }
}
