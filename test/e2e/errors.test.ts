import { readdirSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { useCsiEnvironment } from '../harness/csi/environment.js';
import type { KubeletPod } from '../harness/csi/kubelet.js';
import { createSecret } from '../harness/moto.js';

const env = useCsiEnvironment();

async function publishError(pod: KubeletPod): Promise<{ code: number; details: string }> {
  const err = await pod.publish().then(
    () => undefined,
    (e: unknown) => e as { code: number; details: string },
  );
  if (!err) throw new Error('NodePublishVolume succeeded, expected an error');
  return err;
}

/** What must hold after a NodePublishVolume that failed: no mount, no file, no pod status. */
async function expectNothingMounted(pod: KubeletPod) {
  expect(pod.mountOfTarget()).toBeUndefined();
  // The driver created the target directory and unmounted its tmpfs again, leaving the directory empty.
  expect(pod.targetExists() ? readdirSync(pod.visiblePath) : []).toEqual([]);
  expect(await pod.podStatus()).toBeUndefined();
}

describe('errors of the provider reach kubelet through the driver', () => {
  it('a bad SecretProviderClass fails NodePublishVolume with our message, before any AWS call', async () => {
    await env.createSpc('bad-key', {
      parameters: {
        region: 'us-east-1',
        objects: ['- objectName: app/db', '  objectType: secretsmanager', '  objectAliass: db'].join('\n'),
      },
    });
    const pod = await env.pod('bad-key', 'bad-key');

    const err = await publishError(pod);

    // The driver wraps our status in its own message; grpc-go keeps the wrapped status's code.
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toContain(`failed to mount secrets store objects for pod ${env.namespace}/bad-key`);
    expect(err.details).toMatch(/code = InvalidArgument desc = InvalidSecretProviderClass: .*objectAliass/);
    await expectNothingMounted(pod);
    expect(env.proxy.records).toEqual([]);
  });

  it('a secret that does not exist fails with ObjectNotFound naming the object and the region', async () => {
    await createSecret('us-east-1', 'present', 'here');
    await env.createSpc('missing', {
      parameters: {
        region: 'us-east-1',
        objects: ['- {objectName: present, objectType: secretsmanager}', '- {objectName: absent, objectType: secretsmanager}'].join(
          '\n',
        ),
      },
    });
    const pod = await env.pod('missing', 'missing');

    const err = await publishError(pod);

    expect(err.code).toBe(grpc.status.NOT_FOUND);
    expect(err.details).toMatch(/code = NotFound desc = ObjectNotFound: /);
    expect(err.details).toContain('absent');
    expect(err.details).toContain('us-east-1');
    await expectNothingMounted(pod);
  });

  it('a SecretProviderClass that does not exist is the driver\'s own error, and the provider is never called', async () => {
    const pod = await env.pod('no-spc', 'does-not-exist');
    const err = await pod.driver.client
      .nodePublishVolume({
        volume_id: pod.volumeId,
        target_path: pod.targetPath,
        readonly: true,
        volume_capability: { mount: { fs_type: '', mount_flags: [] }, access_mode: { mode: 'SINGLE_NODE_WRITER' } },
        volume_context: {
          secretProviderClass: 'does-not-exist',
          'csi.storage.k8s.io/pod.name': pod.name,
          'csi.storage.k8s.io/pod.namespace': pod.namespace,
          'csi.storage.k8s.io/pod.uid': pod.uid,
          'csi.storage.k8s.io/serviceAccount.name': pod.options.serviceAccountName,
          'csi.storage.k8s.io/ephemeral': 'true',
        },
      })
      .then(
        () => undefined,
        (e: unknown) => e as { details: string },
      );
    expect(err?.details).toMatch(/failed to get secretproviderclass .*does-not-exist/);
    expect(env.provider.output()).not.toContain('"pod":"no-spc"');
    expect(pod.mountOfTarget()).toBeUndefined();
  });
});
