import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { secretsManagerClient, stsClient } from '../../harness/moto.js';
import { useMountEnvironment } from '../../harness/mountEnvironment.js';
import { usePodIdentityAgent } from '../../harness/podIdentityAgent.js';
import { issuedAccessKeys } from './support.js';

const REGION = 'us-west-2';
/** The account that holds the secret; the pods' own roles are in 123456789012. */
const TARGET_ACCOUNT = '999988887777';
const CROSS_ROLE = `arn:aws:iam::${TARGET_ACCOUNT}:role/cross-account-reader`;
const objects = [{ objectName: 'shared/db', objectType: 'secretsmanager' }];
const EKS_ADDON = 'v1.9.0-eksbuild.1';

/**
 * Seeds the secret in the target account. moto keeps one state per account and picks it from the signing key,
 * so a Mount finds it only when it signs with credentials of that account: the chained ones.
 */
async function seedInTargetAccount(value: string): Promise<void> {
  const sts = stsClient(REGION);
  const { Credentials: c } = await sts.send(
    new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${TARGET_ACCOUNT}:role/seeder`, RoleSessionName: 'seed' }),
  );
  const client = secretsManagerClient(REGION, {
    credentials: { accessKeyId: c!.AccessKeyId!, secretAccessKey: c!.SecretAccessKey!, sessionToken: c!.SessionToken },
  });
  await client.send(new CreateSecretCommand({ Name: 'shared/db', SecretString: value }));
  client.destroy();
  sts.destroy();
}

const chain = (extra: Record<string, string> = {}) => ({
  assumeRoleArn: CROSS_ROLE,
  assumeRoleExternalId: 'ext-4711',
  assumeRoleDurationSeconds: '1800',
  ...extra,
});

const agent = usePodIdentityAgent();

describe('assumeRoleArn: cross-account role chaining', () => {
  const env = useMountEnvironment({
    providerEnv: { AWS_REGION: REGION },
    providerArgs: () => [
      `--pod-identity-endpoint-ipv4=${agent.ipv4Url}`,
      `--pod-identity-endpoint-ipv6=${agent.ipv6Url}`,
      `--eks-addon-version=${EKS_ADDON}`,
    ],
  });

  it('IRSA, then AssumeRole with the role, external id, duration and a pod session name, signed by the IRSA credentials', async () => {
    await seedInTargetAccount('cross-account-value');
    const who = await env.pod('chain-irsa', { roleArn: 'arn:aws:iam::123456789012:role/app-base' });

    const response = await env.mount(who, { objects, parameters: chain() });

    expect(response.files[0]?.contents.toString()).toBe('cross-account-value');
    const sts = env.proxy.records.filter((r) => r.service === 'sts');
    expect(sts.map((r) => r.action)).toEqual(['AssumeRoleWithWebIdentity', 'AssumeRole']);
    const assume = sts[1]!;
    expect(assume).toMatchObject({
      roleArn: CROSS_ROLE,
      externalId: 'ext-4711',
      durationSeconds: 1800,
      roleSessionName: `${env.namespace}.chain-irsa`,
      // Signed, so the scope names the region: the regional STS endpoint of the Mount's region.
      region: REGION,
    });
    expect(assume.accessKeyId).toBe((await issuedAccessKeys('arn:aws:iam::123456789012:role/app-base'))[0]);
    const fetches = env.proxy.records.filter((r) => r.service === 'secretsmanager');
    expect(fetches).toHaveLength(1);
    expect(fetches[0]!.accessKeyId).toBe((await issuedAccessKeys(CROSS_ROLE))[0]);
    // Every call, both STS calls included, carries ASCP's app id for the add-on (the SDKs write its ":" as "-", as
    // ASCP's Go SDK does), and this provider's own name.
    for (const record of env.proxy.records) {
      expect(record.userAgent).toContain(`app/secrets-store-csi-driver-provider-aws-${EKS_ADDON}`);
      expect(record.userAgent).toMatch(/aws-secrets-csi-provider\/\d/);
    }
  });

  it('Pod Identity, then AssumeRole signed by the credentials the agent gave', async () => {
    await seedInTargetAccount('via-pod-identity');
    const who = await env.pod('chain-pi', { roleArn: null });

    const response = await env.mount(who, { objects, parameters: chain({ usePodIdentity: 'true' }) });

    expect(response.files[0]?.contents.toString()).toBe('via-pod-identity');
    expect(agent.requests).toHaveLength(1);
    const assume = env.proxy.records.filter((r) => r.action === 'AssumeRole');
    expect(assume).toHaveLength(1);
    expect(assume[0]!.accessKeyId).toBe(agent.requests[0]!.issuedAccessKeyId);
    const fetch = env.proxy.records.find((r) => r.service === 'secretsmanager');
    expect(fetch?.accessKeyId).toBe((await issuedAccessKeys(CROSS_ROLE))[0]);
    expect(fetch?.accessKeyId).not.toBe(agent.requests[0]!.issuedAccessKeyId);
  });

  it('the chained role and external id are part of the identity: each gets its own session, a repeat none', async () => {
    await seedInTargetAccount('v');
    const who = await env.pod('chain-keys');
    const otherRole = `arn:aws:iam::${TARGET_ACCOUNT}:role/other-reader`;

    await env.mount(who, { objects, parameters: chain() });
    await env.mount(who, { objects, parameters: chain({ assumeRoleArn: otherRole }) });
    await env.mount(who, { objects, parameters: chain({ assumeRoleExternalId: 'another-id' }) });
    await env.mount(who, { objects, parameters: chain() });

    const sts = env.proxy.records.filter((r) => r.service === 'sts');
    // One web-identity session for the pod's own role, shared by the three chains; the repeat costs nothing.
    expect(sts.map((r) => [r.action, r.roleArn, r.externalId])).toEqual([
      ['AssumeRoleWithWebIdentity', who.roleArn, undefined],
      ['AssumeRole', CROSS_ROLE, 'ext-4711'],
      ['AssumeRole', otherRole, 'ext-4711'],
      ['AssumeRole', CROSS_ROLE, 'another-id'],
    ]);
    const keys = env.proxy.records.filter((r) => r.service === 'secretsmanager').map((r) => r.accessKeyId);
    expect(new Set(keys.slice(0, 3)).size).toBe(3);
    expect(keys[3]).toBe(keys[0]);
  });
});

describe('chained credentials near expiry', () => {
  // 20 minutes of margin: a 15-minute chained session is never reused, the 1-hour web-identity one is.
  const env = useMountEnvironment({ providerEnv: { AWS_REGION: REGION }, providerArgs: ['--credential-refresh-margin=20m'] });

  it('are obtained afresh on every Mount while the base credentials are reused', async () => {
    await seedInTargetAccount('v');
    const who = await env.pod('chain-short');

    for (let i = 0; i < 3; i++) {
      await env.mount(who, { objects, parameters: chain({ assumeRoleDurationSeconds: '900' }) });
    }

    const actions = env.proxy.records.filter((r) => r.service === 'sts').map((r) => r.action);
    expect(actions).toEqual(['AssumeRoleWithWebIdentity', 'AssumeRole', 'AssumeRole', 'AssumeRole']);
    const keys = env.proxy.records.filter((r) => r.service === 'secretsmanager').map((r) => r.accessKeyId);
    expect(new Set(keys).size).toBe(3);
  });
});
