import { describe, expect, it } from 'vitest';
import { ROLE_ANNOTATION } from '../fixtures/identity.js';
import { createSecretProviderClass } from '../harness/csi/cluster.js';
import { coreV1, createServiceAccount } from '../harness/kube.js';
import { createSecret } from '../harness/moto.js';
import { appPod, useNodeProvider, waitForView, waitPodRunning } from '../harness/node/workloads.js';
import { usePodIdentityAgent } from '../harness/podIdentityAgent.js';

const NAMESPACE = 'node-identity';
// Started first (its beforeAll is registered before ours): the chart points the provider at it.
const agent = usePodIdentityAgent();

const provider = useNodeProvider(NAMESPACE, {
  values: () => ({ extraArgs: [`--pod-identity-endpoint-ipv4=${agent.ipv4Url}`, `--pod-identity-endpoint-ipv6=${agent.ipv6Url}`] }),
  // Each region's STS at its own proxy listener, so a whole region can be taken down, STS included.
  stsRegions: ['us-east-1', 'us-east-2'],
  appServiceAccount: false,
});

function claims(token: string): { aud: string[]; sub: string; 'kubernetes.io': { pod: { name: string } } } {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as ReturnType<typeof claims>;
}

async function podWith(name: string, serviceAccountName: string, parameters: Record<string, string>): Promise<void> {
  await createSecretProviderClass(NAMESPACE, name, { parameters });
  await coreV1().createNamespacedPod({ namespace: NAMESPACE, body: appPod({ namespace: NAMESPACE, name, serviceAccountName, spc: name }) });
  await waitPodRunning(NAMESPACE, name);
}

describe('identities on a real node', () => {
  it("EKS Pod Identity: the agent (on loopback) gets the pod's kubelet-minted pods.eks.amazonaws.com token", async () => {
    await createSecret('us-east-1', 'PodIdentitySecret', 'through-pod-identity');
    await createServiceAccount(NAMESPACE, 'pi');
    await podWith('pod-identity', 'pi', {
      region: 'us-east-1',
      usePodIdentity: 'true',
      objects: '- objectName: PodIdentitySecret\n  objectType: secretsmanager\n',
    });
    const view = await waitForView(NAMESPACE, 'pod-identity', (v) => Object.keys(v.files).length > 0);
    expect(view.files).toEqual({ PodIdentitySecret: 'through-pod-identity' });
    const calls = agent.requests.filter((r) => r.issuedAccessKeyId !== undefined);
    expect(calls.length).toBeGreaterThan(0);
    const token = claims(calls[0]!.authorization!);
    expect(token.aud).toEqual(['pods.eks.amazonaws.com']);
    expect(token.sub).toBe(`system:serviceaccount:${NAMESPACE}:pi`);
    expect(token['kubernetes.io'].pod.name).toBe('pod-identity');
    // No web identity was exchanged: Pod Identity does not go through STS.
    expect(provider().proxy.records.filter((r) => r.action === 'AssumeRoleWithWebIdentity' && r.roleArn?.endsWith('/pi'))).toEqual([]);
  });

  it('failover: with the primary region failing at the proxy, the pod gets the failover region\'s value', async () => {
    await createSecret('us-east-1', 'FailoverSecret', 'from-primary');
    await createSecret('us-east-2', 'FailoverSecret', 'from-failover');
    await createServiceAccount(NAMESPACE, 'fo', { [ROLE_ANNOTATION]: 'arn:aws:iam::123456789012:role/fo' });
    provider().proxy.setFault({ kind: 'status', status: 503, service: 'secretsmanager', region: 'us-east-1' });
    try {
      await podWith('failover', 'fo', {
        region: 'us-east-1',
        failoverRegion: 'us-east-2',
        objects: '- objectName: FailoverSecret\n  objectType: secretsmanager\n',
      });
      const view = await waitForView(NAMESPACE, 'failover', (v) => Object.keys(v.files).length > 0);
      expect(view.files).toEqual({ FailoverSecret: 'from-failover' });
      const regions = provider().proxy.records.filter((r) => r.secretIds.includes('FailoverSecret')).map((r) => r.region);
      expect(regions).toContain('us-east-1');
      expect(regions).toContain('us-east-2');
    } finally {
      provider().proxy.clearFaults();
    }
  });

  it('a whole primary region down, STS included: the credentials from the failover region\'s STS, the value from its Secrets Manager', async () => {
    await createSecret('us-east-1', 'RegionDownSecret', 'from-primary');
    await createSecret('us-east-2', 'RegionDownSecret', 'from-failover');
    await createServiceAccount(NAMESPACE, 'region-down', { [ROLE_ANNOTATION]: 'arn:aws:iam::123456789012:role/region-down' });
    provider().proxy.setFault({ kind: 'status', status: 500, region: 'us-east-1' });
    try {
      await podWith('region-down', 'region-down', {
        region: 'us-east-1',
        failoverRegion: 'us-east-2',
        objects: '- objectName: RegionDownSecret\n  objectType: secretsmanager\n',
      });
      const view = await waitForView(NAMESPACE, 'region-down', (v) => Object.keys(v.files).length > 0);
      expect(view.files).toEqual({ RegionDownSecret: 'from-failover' });
      const sts = provider().proxy.records.filter((r) => r.action === 'AssumeRoleWithWebIdentity' && r.roleArn?.endsWith('/region-down'));
      const answered = sts.filter((r) => r.status === 200);
      expect(sts.filter((r) => r.region === 'us-east-1').every((r) => r.status === 500)).toBe(true);
      expect(sts.some((r) => r.region === 'us-east-1')).toBe(true);
      expect(answered.map((r) => r.region)).toEqual(answered.map(() => 'us-east-2'));
      expect(answered.length).toBeGreaterThan(0);
      const reads = provider().proxy.records.filter((r) => r.secretIds.includes('RegionDownSecret') && r.status === 200);
      expect(reads.map((r) => r.region)).toEqual(reads.map(() => 'us-east-2'));
      expect(reads.length).toBeGreaterThan(0);
    } finally {
      provider().proxy.clearFaults();
    }
  });
});
