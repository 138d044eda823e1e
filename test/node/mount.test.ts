import { describe, expect, it } from 'vitest';
import { driverSuiteFiles, seedDriverSuite } from '../fixtures/driverSuite.js';
import { ROLE_ANNOTATION } from '../fixtures/identity.js';
import { readSpcFixture, withRealArns } from '../fixtures/spcFiles.js';
import { createSecretProviderClass } from '../harness/csi/cluster.js';
import { coreV1, createServiceAccount } from '../harness/kube.js';
import { appPod, useNodeProvider, waitForView, waitPodRunning } from '../harness/node/workloads.js';

const NAMESPACE = 'node-mount';
const provider = useNodeProvider(NAMESPACE, { appServiceAccount: false });

describe('helm install of the chart on a real node', () => {
  it("gives a pod the driver suite's files: SSM and Secrets Manager through IRSA with kubelet's token, read inside the pod", async () => {
    const { s2, json } = await seedDriverSuite();
    const spc = readSpcFixture('05-driver-suite-basic.yaml');
    await createSecretProviderClass(NAMESPACE, spc.name, {
      parameters: { ...spc.parameters, objects: withRealArns(spc.parameters.objects ?? '', { SecretsManagerTest2: s2.arn }) },
    });
    await createServiceAccount(NAMESPACE, 'app', { [ROLE_ANNOTATION]: 'arn:aws:iam::123456789012:role/app' });
    await coreV1().createNamespacedPod({ namespace: NAMESPACE, body: appPod({ namespace: NAMESPACE, name: 'basic', serviceAccountName: 'app', spc: spc.name }) });

    await waitPodRunning(NAMESPACE, 'basic');
    const view = await waitForView(NAMESPACE, 'basic', (v) => Object.keys(v.files).length > 0);
    expect(view.files).toEqual(driverSuiteFiles(json));

    // The provider assumed the ServiceAccount's role with the token kubelet minted for the pod (audience
    // sts.amazonaws.com, the pod's own ServiceAccount), through the fault proxy on loopback.
    const assumed = provider().proxy.records.filter((r) => r.action === 'AssumeRoleWithWebIdentity');
    expect(assumed.length).toBeGreaterThan(0);
    const claims = JSON.parse(Buffer.from(assumed[0]!.webIdentityToken!.split('.')[1]!, 'base64url').toString()) as {
      aud: string[];
      sub: string;
      'kubernetes.io': { pod: { name: string } };
    };
    expect(claims.aud).toEqual(['sts.amazonaws.com']);
    expect(claims.sub).toBe(`system:serviceaccount:${NAMESPACE}:app`);
    expect(claims['kubernetes.io'].pod.name).toBe('basic');
    expect(assumed[0]!.roleArn).toBe('arn:aws:iam::123456789012:role/app');
  });
});
