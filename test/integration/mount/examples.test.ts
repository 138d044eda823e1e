import { describe, expect, it } from 'vitest';
import { createNode, createPod } from '../../harness/kube.js';
import { createSecret } from '../../harness/moto.js';
import { useMountEnvironment, type PodIdentityFixture } from '../../harness/mountEnvironment.js';
import { driverSuiteFiles, seedDriverSuite } from '../../fixtures/driverSuite.js';
import { readSpcFixture, withRealArns } from '../../fixtures/spcFiles.js';
import type { MountResponseMessage } from '../../../src/server/proto.js';

// The provider runs without AWS_REGION: SecretProviderClasses that name no region get it from the pod's node.
const env = useMountEnvironment();

function filesOf(response: MountResponseMessage): Record<string, string> {
  return Object.fromEntries(response.files.map((file) => [file.path, file.contents.toString('utf8')]));
}

function versionsOf(response: MountResponseMessage): Record<string, string> {
  return Object.fromEntries(response.objectVersion.map((v) => [v.id, v.version]));
}

/** A pod scheduled on a node of the given region, so region resolution goes pod → node → label. */
async function podInRegion(name: string, region: string): Promise<PodIdentityFixture> {
  const who = await env.pod(name);
  const nodeName = `node-${name}`;
  await createNode(nodeName, { 'topology.kubernetes.io/region': region });
  await createPod(env.namespace, name, { serviceAccountName: who.pod.serviceAccountName, nodeName });
  return who;
}

async function mountSpc(file: string, who: PodIdentityFixture, arns: Record<string, string> = {}) {
  const { parameters } = readSpcFixture(file);
  const { objects, ...rest } = parameters;
  return env.mount(who, { parameters: rest, objects: withRealArns(objects ?? '', arns) });
}

describe('the AWS user guide examples mount unchanged', () => {
  it('01: a secret by full ARN, one by name with objectType, one by version label', async () => {
    const mySecret2 = await createSecret('us-east-2', 'MySecret2', 'value-2');
    const mySecret3 = await createSecret('us-east-2', 'MySecret3', 'value-3');
    const mySecret4 = await createSecret('us-east-2', 'MySecret4', 'value-4');
    const who = await podInRegion('example-01', 'us-east-2');

    const response = await mountSpc('01-by-name-or-arn.yaml', who, { MySecret2: mySecret2.arn });

    expect(filesOf(response)).toEqual({ [mySecret2.arn]: 'value-2', MySecret3: 'value-3', MySecret4: 'value-4' });
    expect(versionsOf(response)).toEqual({
      [mySecret2.arn]: mySecret2.versionId,
      MySecret3: mySecret3.versionId,
      MySecret4: mySecret4.versionId,
    });
    expect(response.files.every((file) => file.mode === 0o644)).toBe(true);
  });

  it('02: the whole JSON secret and two of its keys as files', async () => {
    const value = JSON.stringify({ username: 'alice', password: 'correct-horse' });
    const secret = await createSecret('us-east-2', 'MySecret', value);
    const who = await podInRegion('example-02', 'us-east-2');

    const response = await mountSpc('02-key-value-pairs.yaml', who, { MySecret: secret.arn });

    expect(filesOf(response)).toEqual({ [secret.arn]: value, dbusername: 'alice', dbpassword: 'correct-horse' });
    expect(versionsOf(response)).toEqual({
      [secret.arn]: secret.versionId,
      dbusername: secret.versionId,
      dbpassword: secret.versionId,
    });
  });

  it('03: a replicated secret comes from the primary region while it is healthy', async () => {
    const secret = await createSecret('us-east-1', 'MySecret', 'replicated', { replicaRegions: ['us-east-2'] });
    const who = await env.pod('example-03');

    const response = await mountSpc('03-failover-region.yaml', who);

    expect(filesOf(response)).toEqual({ MySecret: 'replicated' });
    expect(versionsOf(response)).toEqual({ MySecret: secret.versionId });
    const regions = env.proxy.records.filter((r) => r.service !== 'sts').map((r) => r.region);
    expect(regions).toEqual(['us-east-1']);
  });

  it('03: the replica in the failover region is mounted when the primary region fails', async () => {
    await createSecret('us-east-1', 'MySecret', 'replicated', { replicaRegions: ['us-east-2'] });
    const who = await env.pod('example-03b');
    env.proxy.setFault({ region: 'us-east-1', service: 'secretsmanager', kind: 'status', status: 500 });

    const response = await mountSpc('03-failover-region.yaml', who);

    expect(filesOf(response)).toEqual({ MySecret: 'replicated' });
    const served = env.proxy.records.filter((r) => r.service === 'secretsmanager' && r.status === 200);
    expect(served.map((r) => r.region)).toEqual(['us-east-2']);
  });

  it('04: the failover object, under the same file name, when the primary region fails', async () => {
    const primary = await createSecret('us-east-1', 'MySecret', 'primary-value');
    const failover = await createSecret('us-east-2', 'MyFailoverSecret', 'failover-value');
    const who = await env.pod('example-04');
    const arns = { MySecret: primary.arn, MyFailoverSecret: failover.arn };

    const healthy = await mountSpc('04-failover-object.yaml', who, arns);
    expect(filesOf(healthy)).toEqual({ MyMountedSecret: 'primary-value' });
    expect(versionsOf(healthy)).toEqual({ MyMountedSecret: primary.versionId });

    env.proxy.setFault({ region: 'us-east-1', kind: 'status', status: 503 });
    const failedOver = await mountSpc('04-failover-object.yaml', who, arns);
    expect(filesOf(failedOver)).toEqual({ MyMountedSecret: 'failover-value' });
    expect(versionsOf(failedOver)).toEqual({ MyMountedSecret: failover.versionId });
  });

  it('05: the driver suite: SSM parameters, secrets by name and ARN, capitalised jmesPath keys', async () => {
    const { p1, p2, s1, s2, s3, json } = await seedDriverSuite();
    const who = await env.pod('example-05');

    const response = await mountSpc('05-driver-suite-basic.yaml', who, { SecretsManagerTest2: s2.arn });

    expect(filesOf(response)).toEqual(driverSuiteFiles(json));
    expect(versionsOf(response)).toEqual({
      ParameterStoreTest1: String(p1),
      ParameterStoreTest2: String(p2),
      SecretsManagerTest1: s1.versionId,
      SecretsManagerTest2: s2.versionId,
      SecretsManagerJson: s3.versionId,
      dbuser: s3.versionId,
    });
  });
});
