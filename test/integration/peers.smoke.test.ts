import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { AssumeRoleWithWebIdentityCommand } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { startFaultProxy } from '../harness/faultProxy.js';
import { coreV1, createNode, createPod, createServiceAccount, ensureNamespace, mintToken } from '../harness/kube.js';
import { createSecret, secretsManagerClient, stsClient } from '../harness/moto.js';
import { usePeers } from '../harness/peers.js';

const run = promisify(execFile);
const roleArn = 'arn:aws:iam::123456789012:role/smoke';

describe('the peers answer', () => {
  it('moto keeps a separate secret per region', async () => {
    const east = await createSecret('us-east-1', 'smoke/secret', 'value in us-east-1');
    const west = await createSecret('eu-west-1', 'smoke/secret', 'value in eu-west-1');
    expect(east.arn).toContain(':us-east-1:');
    expect(west.arn).toContain(':eu-west-1:');

    for (const [region, { versionId }] of [['us-east-1', east], ['eu-west-1', west]] as const) {
      const got = await secretsManagerClient(region).send(new GetSecretValueCommand({ SecretId: 'smoke/secret' }));
      expect(got.SecretString).toBe(`value in ${region}`);
      expect(got.VersionId).toBe(versionId);
    }
  });

  it('kube-apiserver stores an IRSA ServiceAccount and mints its token', async () => {
    await ensureNamespace('smoke');
    await createServiceAccount('smoke', 'app', { 'eks.amazonaws.com/role-arn': roleArn });
    const sa = await coreV1().readNamespacedServiceAccount({ namespace: 'smoke', name: 'app' });
    expect(sa.metadata?.annotations?.['eks.amazonaws.com/role-arn']).toBe(roleArn);

    const { token, expirationTimestamp } = await mintToken('smoke', 'app', 'sts.amazonaws.com', 600);
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      aud: string[];
      sub: string;
    };
    expect(claims.aud).toEqual(['sts.amazonaws.com']);
    expect(claims.sub).toBe('system:serviceaccount:smoke:app');
    expect(Date.parse(expirationTimestamp)).toBeGreaterThan(Date.now());
  });

  it('kube-apiserver stores a Node and a Pod scheduled on it', async () => {
    await ensureNamespace('smoke');
    await createServiceAccount('smoke', 'pod-sa');
    await createNode('smoke-node', { 'topology.kubernetes.io/region': 'eu-west-1' });
    const pod = await createPod('smoke', 'web', { serviceAccountName: 'pod-sa', nodeName: 'smoke-node' });
    expect(pod.metadata?.uid).toBeTruthy();

    const read = await coreV1().readNamespacedPod({ namespace: 'smoke', name: 'web' });
    expect(read.spec?.nodeName).toBe('smoke-node');
    const node = await coreV1().readNode({ name: 'smoke-node' });
    expect(node.metadata?.labels?.['topology.kubernetes.io/region']).toBe('eu-west-1');
  });

  it('moto STS answers AssumeRoleWithWebIdentity through the fault proxy', async () => {
    await ensureNamespace('smoke');
    await createServiceAccount('smoke', 'sts-sa', { 'eks.amazonaws.com/role-arn': roleArn });
    const { token } = await mintToken('smoke', 'sts-sa', 'sts.amazonaws.com');
    const proxy = await startFaultProxy(usePeers().motoUrl);
    try {
      const out = await stsClient('us-east-1', { endpoint: proxy.url }).send(
        new AssumeRoleWithWebIdentityCommand({ RoleArn: roleArn, RoleSessionName: 'smoke-web', WebIdentityToken: token }),
      );
      expect(out.Credentials?.AccessKeyId).toBeTruthy();
      expect(out.AssumedRoleUser?.Arn).toContain('smoke-web');
      expect(proxy.records).toMatchObject([
        { service: 'sts', action: 'AssumeRoleWithWebIdentity', roleArn, webIdentityToken: token, status: 200 },
      ]);
    } finally {
      await proxy.close();
    }
  });

  it('the CSI driver and helm binaries report their pinned versions', async () => {
    const pinned = Object.fromEntries(
      readFileSync(fileURLToPath(new URL('../peers/versions.env', import.meta.url)), 'utf8')
        .split('\n')
        .filter((line) => /^[A-Z_]+=/.test(line))
        .map((line) => line.split('=', 2) as [string, string]),
    );
    const { csiDriver, helm } = usePeers().binaries;
    const driver = await run(csiDriver, ['--version']);
    expect(JSON.parse(driver.stdout)).toMatchObject({ BuildVersion: pinned.CSI_DRIVER_VERSION });
    const helmVersion = await run(helm, ['version', '--short']);
    expect(helmVersion.stdout.trim()).toBe(pinned.HELM_VERSION);
  });
});
