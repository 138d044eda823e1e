import type { Credentials } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import { ProviderError } from '../errors.js';
import { isAborted, isRegionalFault, readableAwsError } from '../aws/errors.js';

interface StsContext {
  action: string;
  region: string;
  description: string;
  /** What the user should check when STS refuses. */
  fix: string;
}

/**
 * STS refusing is the user's to fix (trust policy, token); STS unreachable is ours to report as unavailable; an SDK
 * failing before it sent anything is neither, and says so.
 */
export function stsError(err: unknown, context: StsContext): ProviderError {
  const { name, message: reason, reachedService } = readableAwsError(err);
  // An abandoned call (a deadline, or a shared call given up) is no refusal: nothing was wrong with the role.
  if (isAborted(err)) {
    return new ProviderError(
      'CredentialsUnavailable',
      `STS ${context.action} in ${context.region} did not answer in time for ${context.description}`,
      { cause: err },
    );
  }
  if (isRegionalFault(err)) {
    return new ProviderError(
      'CredentialsUnavailable',
      `STS ${context.action} in ${context.region} failed for ${context.description}: ${name}: ${reason}`,
      { cause: err },
    );
  }
  if (!reachedService) {
    return new ProviderError(
      'Internal',
      `the AWS SDK failed before calling STS ${context.action} in ${context.region} for ${context.description}: ` +
        `${name}: ${reason}; nothing reached STS: check the provider's environment (HOME, AWS_* variables, AWS ` +
        `config files) and its logs`,
      { cause: err },
    );
  }
  return new ProviderError(
    'CredentialsRefused',
    `STS ${context.action} in ${context.region} refused ${context.description}: ${name}: ${reason}; ${context.fix}`,
    { cause: err },
  );
}

/** The credentials of an STS answer, or CredentialsUnavailable when it held none. */
export function stsCredentials(
  credentials: Partial<Pick<Credentials, 'AccessKeyId' | 'SecretAccessKey' | 'SessionToken' | 'Expiration'>> | undefined,
  region: string,
  description: string,
): AwsCredentialIdentity {
  if (!credentials?.AccessKeyId || !credentials.SecretAccessKey) {
    throw new ProviderError('CredentialsUnavailable', `STS (${region}) returned no credentials for ${description}`);
  }
  return {
    accessKeyId: credentials.AccessKeyId,
    secretAccessKey: credentials.SecretAccessKey,
    sessionToken: credentials.SessionToken,
    expiration: credentials.Expiration,
  };
}
