import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { createSecret } from '../../harness/moto.js';
import { useMountEnvironment } from '../../harness/mountEnvironment.js';

const REGION = 'ap-southeast-2';
const env = useMountEnvironment({ providerEnv: { AWS_REGION: REGION } });
const objects = [{ objectName: 'app-secret', objectType: 'secretsmanager' }];

function tokenFor(tokens: string, audience: string): string {
  return (JSON.parse(tokens) as Record<string, { token: string }>)[audience]!.token;
}

describe('IRSA', () => {
  it("assumes the role annotated on the pod's ServiceAccount with the pod's own token", async () => {
    await createSecret(REGION, 'app-secret', 'v');
    const who = await env.pod('irsa-pod', { roleArn: 'arn:aws:iam::123456789012:role/payments-reader' });

    await env.mount(who, { objects });

    const sts = env.proxy.records.filter((r) => r.action === 'AssumeRoleWithWebIdentity');
    expect(sts).toHaveLength(1);
    expect(sts[0]!.roleArn).toBe('arn:aws:iam::123456789012:role/payments-reader');
    expect(sts[0]!.webIdentityToken).toBe(tokenFor(who.tokens, 'sts.amazonaws.com'));
    expect(sts[0]!.roleSessionName).toBe(`${env.namespace}.irsa-pod`);
  });

  it('signs the Secrets Manager call with the credentials STS issued', async () => {
    await createSecret(REGION, 'app-secret', 'v');
    const who = await env.pod('irsa-signing');

    await env.mount(who, { objects });

    const fetch = env.proxy.records.find((r) => r.service === 'secretsmanager');
    // moto issues ASIA… session keys; the provider has no other credentials to sign with.
    expect(fetch?.accessKeyId).toMatch(/^ASIA/);
    expect(fetch?.region).toBe(REGION);
  });

  it('reads the token from the node-publish secrets when the driver puts it there', async () => {
    await createSecret(REGION, 'app-secret', 'from-secrets');
    const who = await env.pod('irsa-secrets');

    const response = await env.mount(who, { objects, tokensInSecrets: true });

    expect(response.files[0]?.contents.toString()).toBe('from-secrets');
    const sts = env.proxy.records.find((r) => r.action === 'AssumeRoleWithWebIdentity');
    expect(sts?.webIdentityToken).toBe(tokenFor(who.tokens, 'sts.amazonaws.com'));
  });

  it('a role change on the ServiceAccount is picked up per service account, not shared across them', async () => {
    await createSecret(REGION, 'app-secret', 'v');
    const a = await env.pod('irsa-a', { roleArn: 'arn:aws:iam::123456789012:role/role-a' });
    const b = await env.pod('irsa-b', { roleArn: 'arn:aws:iam::123456789012:role/role-b' });

    await env.mount(a, { objects });
    await env.mount(b, { objects });

    const roles = env.proxy.records.filter((r) => r.service === 'sts').map((r) => r.roleArn);
    expect(roles).toEqual(['arn:aws:iam::123456789012:role/role-a', 'arn:aws:iam::123456789012:role/role-b']);
  });

  it('STS unreachable: UNAVAILABLE naming the role, and nothing fetched', async () => {
    await createSecret(REGION, 'app-secret', 'v');
    const who = await env.pod('irsa-sts-down');
    env.proxy.setFault({ service: 'sts', kind: 'drop' });

    const failure = env.mount(who, { objects });

    await expect(failure).rejects.toMatchObject({ code: status.UNAVAILABLE });
    await expect(failure).rejects.toThrow(/STS/);
    await expect(failure).rejects.toThrow(/role\/irsa-sts-down-sa/);
    expect(env.proxy.records.filter((r) => r.service === 'secretsmanager')).toHaveLength(0);
  });
});
