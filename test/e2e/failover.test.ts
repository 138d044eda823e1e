import { describe, expect, it } from 'vitest';
import { useCsiEnvironment } from '../harness/csi/environment.js';
import { createSecret } from '../harness/moto.js';
import { readSpcFixture, withRealArns } from '../fixtures/spcFiles.js';

const env = useCsiEnvironment();

function secretsManagerRegions(status: number) {
  return env.proxy.records.filter((r) => r.service === 'secretsmanager' && r.status === status).map((r) => r.region);
}

describe('failover through the driver', () => {
  it('mounts the failover object while the primary region fails, and the primary again once it recovers', async () => {
    const primary = await createSecret('us-east-1', 'MySecret', 'primary-value');
    const failover = await createSecret('us-east-2', 'MyFailoverSecret', 'failover-value');
    const spc = readSpcFixture('04-failover-object.yaml');
    await env.createSpc(spc.name, {
      parameters: {
        ...spc.parameters,
        objects: withRealArns(spc.parameters.objects ?? '', { MySecret: primary.arn, MyFailoverSecret: failover.arn }),
      },
    });
    const pod = await env.pod('failover', spc.name);

    // The primary region fails from the first publish: the failover region's object is mounted.
    env.proxy.setFault({ region: 'us-east-1', kind: 'status', status: 503 });
    await pod.publish();
    expect(pod.contents()).toEqual({ MyMountedSecret: 'failover-value' });
    expect((await pod.podStatus())?.status.objects).toEqual([{ id: 'MyMountedSecret', version: failover.versionId }]);
    expect(secretsManagerRegions(200)).toEqual(['us-east-2']);

    // The region recovers: the next re-publish writes the primary's value and version.
    env.proxy.clearFaults();
    env.proxy.clearRecords();
    await pod.republish();
    expect(pod.contents()).toEqual({ MyMountedSecret: 'primary-value' });
    expect((await pod.podStatus())?.status.objects).toEqual([{ id: 'MyMountedSecret', version: primary.versionId }]);
    // A healthy primary: the failover region is not asked.
    const asked = env.proxy.records.filter((r) => r.service === 'secretsmanager').map((r) => r.region);
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.every((r) => r === 'us-east-1')).toBe(true);

    await pod.unpublish();
  });

  it('a replicated secret by name comes from the replica region when the primary throttles', async () => {
    const secret = await createSecret('us-east-1', 'MySecret', 'replicated', { replicaRegions: ['us-east-2'] });
    const spc = readSpcFixture('03-failover-region.yaml');
    await env.createSpc('replicated', { parameters: spc.parameters });
    const pod = await env.pod('replicated', 'replicated');
    env.proxy.setFault({ region: 'us-east-1', service: 'secretsmanager', kind: 'throttle' });

    await pod.publish();

    expect(pod.contents()).toEqual({ MySecret: 'replicated' });
    expect(secretsManagerRegions(200)).toEqual(['us-east-2']);
    const [object] = (await pod.podStatus())?.status.objects ?? [];
    expect(object?.id).toBe('MySecret');
    // moto keeps a replica's versions in step with its primary's.
    expect(object?.version).toBe(secret.versionId);
    await pod.unpublish();
  });
});
