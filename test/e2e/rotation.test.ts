import { describe, expect, it } from 'vitest';
import { useCsiEnvironment } from '../harness/csi/environment.js';
import type { KubeletPod } from '../harness/csi/kubelet.js';
import { createSecret, putParameter, putSecretValue } from '../harness/moto.js';

const env = useCsiEnvironment();
const region = 'eu-central-1';

const objects = [
  '- objectName: rotating/secret',
  '  objectType: secretsmanager',
  '  objectAlias: secret',
  '- objectName: /rotating/parameter',
  '  objectType: ssmparameter',
  '  objectAlias: parameter',
  '- objectName: steady',
  '  objectType: secretsmanager',
].join('\n');

function awsCalls() {
  return env.proxy.records.filter((r) => r.service === 'secretsmanager' || r.service === 'ssm');
}

async function versionsOf(pod: KubeletPod) {
  const status = await pod.podStatus();
  return Object.fromEntries((status?.status.objects ?? []).map((o) => [o.id, o.version]));
}

describe('rotation: kubelet re-publishes, the driver calls Mount again and writes only what changed', () => {
  it('rewrites the files and versions after a change, and nothing when nothing changed', async () => {
    const secret = await createSecret(region, 'rotating/secret', 'secret-v1');
    const steady = await createSecret(region, 'steady', 'steady-value');
    const p1 = await putParameter(region, '/rotating/parameter', 'parameter-v1');
    await env.createSpc('rotation', { parameters: { region, objects } });
    const pod = await env.pod('rotation', 'rotation');
    await pod.publish();
    expect(pod.contents()).toEqual({ secret: 'secret-v1', parameter: 'parameter-v1', steady: 'steady-value' });
    expect(await versionsOf(pod)).toEqual({ secret: secret.versionId, parameter: String(p1), steady: steady.versionId });
    const firstWrite = { dataDir: pod.dataDir(), files: pod.files(), status: await pod.podStatus() };

    // A re-publish sooner than --rotation-poll-interval after the last write is skipped by the driver itself.
    env.proxy.clearRecords();
    await pod.publish();
    expect(awsCalls()).toEqual([]);

    // Nothing changed: the driver asks the provider again (AWS is called), but its atomic writer sees equal
    // contents and writes nothing: the same timestamped directory, the same inodes, the same pod status object.
    env.proxy.clearRecords();
    await pod.republish();
    expect(awsCalls().length).toBeGreaterThan(0);
    expect(pod.dataDir()).toBe(firstWrite.dataDir);
    expect(pod.files()).toEqual(firstWrite.files);
    expect((await pod.podStatus())?.metadata.resourceVersion).toBe(firstWrite.status?.metadata.resourceVersion);

    // A new secret version and a new parameter version: the next re-publish writes them, with their versions.
    const secretV2 = await putSecretValue(region, 'rotating/secret', 'secret-v2');
    const p2 = await putParameter(region, '/rotating/parameter', 'parameter-v2', 'String', true);
    await pod.republish();
    expect(pod.contents()).toEqual({ secret: 'secret-v2', parameter: 'parameter-v2', steady: 'steady-value' });
    expect(pod.dataDir()).not.toBe(firstWrite.dataDir);
    expect(await versionsOf(pod)).toEqual({ secret: secretV2.versionId, parameter: String(p2), steady: steady.versionId });
    expect(p2).toBe(p1 + 1);
    for (const file of Object.values(pod.files())) expect(file.mode).toBe(0o644);

    await pod.unpublish();
  });

  it('a failed rotation keeps the last good files; the driver hides the error from kubelet and counts it', async () => {
    await createSecret(region, 'rotating/secret', 'secret-v1');
    await createSecret(region, 'steady', 'steady-value');
    await putParameter(region, '/rotating/parameter', 'parameter-v1');
    await env.createSpc('failed-rotation', { parameters: { region, objects } });
    const pod = await env.pod('failed-rotation', 'failed-rotation');
    await pod.publish();
    const before = { dataDir: pod.dataDir(), status: await pod.podStatus() };
    const rotationErrors = async () => metricSum(await env.driver.metrics(), 'rotation_reconcile_error_total');
    const errorsBefore = await rotationErrors();

    await putSecretValue(region, 'rotating/secret', 'secret-v2');
    env.proxy.setFault({ region, service: 'secretsmanager', kind: 'status', status: 500 });
    // The driver masks errors of a re-publish (kubernetes/kubernetes#121271): kubelet sees success.
    await pod.republish();

    expect(pod.contents()).toEqual({ secret: 'secret-v1', parameter: 'parameter-v1', steady: 'steady-value' });
    expect(pod.dataDir()).toBe(before.dataDir);
    expect((await pod.podStatus())?.metadata.resourceVersion).toBe(before.status?.metadata.resourceVersion);
    expect(await rotationErrors()).toBe(errorsBefore + 1);
    expect(env.provider.output()).toContain('RegionUnavailable');

    // Once the region answers again, the next re-publish brings the new value.
    env.proxy.clearFaults();
    await pod.republish();
    expect(pod.contents()).toMatchObject({ secret: 'secret-v2' });
    await pod.unpublish();
  });
});

/** The sum of every sample of a Prometheus counter (all label sets). */
function metricSum(text: string, name: string): number {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}
