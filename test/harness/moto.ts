import {
  CreateSecretCommand,
  PutSecretValueCommand,
  ReplicateSecretToRegionsCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { LabelParameterVersionCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import { usePeers } from './peers.js';

/** moto accepts any credentials; fixed ones make the access key id visible in recorded requests. */
export const testCredentials = { accessKeyId: 'AKIAPEERSTEST0000001', secretAccessKey: 'peers-test-secret-key' };

export interface ClientOptions {
  /** Default: moto itself. Give a fault proxy's url to go through it. */
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  maxAttempts?: number;
}

function config(region: string, opts: ClientOptions = {}) {
  return {
    region,
    endpoint: opts.endpoint ?? usePeers().motoUrl,
    credentials: opts.credentials ?? testCredentials,
    ...(opts.maxAttempts === undefined ? {} : { maxAttempts: opts.maxAttempts }),
  };
}

export function secretsManagerClient(region: string, opts?: ClientOptions): SecretsManagerClient {
  return new SecretsManagerClient(config(region, opts));
}

export function ssmClient(region: string, opts?: ClientOptions): SSMClient {
  return new SSMClient(config(region, opts));
}

export function stsClient(region: string, opts?: ClientOptions): STSClient {
  return new STSClient(config(region, opts));
}

const seeders = new Map<string, SecretsManagerClient | SSMClient>();

function seedSecretsManager(region: string): SecretsManagerClient {
  const key = `secretsmanager/${region}`;
  let client = seeders.get(key);
  if (!client) seeders.set(key, (client = secretsManagerClient(region)));
  return client as SecretsManagerClient;
}

function seedSsm(region: string): SSMClient {
  const key = `ssm/${region}`;
  let client = seeders.get(key);
  if (!client) seeders.set(key, (client = ssmClient(region)));
  return client as SSMClient;
}

function secretValue(value: string | Uint8Array) {
  return typeof value === 'string' ? { SecretString: value } : { SecretBinary: value };
}

export interface SecretVersion {
  arn: string;
  versionId: string;
}

export async function createSecret(
  region: string,
  name: string,
  value: string | Uint8Array,
  opts: { description?: string; kmsKeyId?: string; replicaRegions?: string[]; tags?: Record<string, string> } = {},
): Promise<SecretVersion> {
  const out = await seedSecretsManager(region).send(
    new CreateSecretCommand({
      Name: name,
      ...secretValue(value),
      Description: opts.description,
      KmsKeyId: opts.kmsKeyId,
      AddReplicaRegions: opts.replicaRegions?.map((Region) => ({ Region })),
      Tags: opts.tags && Object.entries(opts.tags).map(([Key, Value]) => ({ Key, Value })),
    }),
  );
  return { arn: out.ARN!, versionId: out.VersionId! };
}

/** A new version of the secret; without stages it becomes AWSCURRENT. */
export async function putSecretValue(
  region: string,
  secretId: string,
  value: string | Uint8Array,
  stages?: string[],
): Promise<SecretVersion> {
  const out = await seedSecretsManager(region).send(
    new PutSecretValueCommand({ SecretId: secretId, ...secretValue(value), VersionStages: stages }),
  );
  return { arn: out.ARN!, versionId: out.VersionId! };
}

/** Copies the secret into the other regions (moto keeps the replica's value in step with the primary's). */
export async function replicateSecret(region: string, secretId: string, replicaRegions: string[]): Promise<void> {
  await seedSecretsManager(region).send(
    new ReplicateSecretToRegionsCommand({
      SecretId: secretId,
      AddReplicaRegions: replicaRegions.map((Region) => ({ Region })),
    }),
  );
}

/** Writes a parameter and returns its new version number. */
export async function putParameter(
  region: string,
  name: string,
  value: string,
  type: 'String' | 'SecureString' = 'String',
  overwrite = false,
): Promise<number> {
  const out = await seedSsm(region).send(
    new PutParameterCommand({ Name: name, Value: value, Type: type, Overwrite: overwrite }),
  );
  return out.Version!;
}

export async function labelParameterVersion(
  region: string,
  name: string,
  version: number,
  labels: string[],
): Promise<void> {
  const out = await seedSsm(region).send(
    new LabelParameterVersionCommand({ Name: name, ParameterVersion: version, Labels: labels }),
  );
  if (out.InvalidLabels?.length) throw new Error(`moto refused labels ${out.InvalidLabels.join(', ')} on ${name}`);
}
