import { setTimeout as sleep } from 'node:timers/promises';
import { ApiException, type V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { useCsiEnvironment } from '../harness/csi/environment.js';
import { coreV1 } from '../harness/kube.js';
import { createSecret, putParameter, putSecretValue } from '../harness/moto.js';

const env = useCsiEnvironment();
const region = 'us-west-2';

async function readSecret(name: string): Promise<V1Secret | undefined> {
  try {
    return await coreV1().readNamespacedSecret({ namespace: env.namespace, name });
  } catch (err) {
    if (err instanceof ApiException && err.code === 404) return undefined;
    throw err;
  }
}

/** Polls the Secret until check passes; the driver syncs from a controller, a moment after the mount. */
async function eventually(name: string, check: (secret: V1Secret | undefined) => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const secret = await readSecret(name);
    if (check(secret)) return secret!;
    if (Date.now() > deadline) throw new Error(`Secret ${name} not as expected after ${timeoutMs} ms: ${JSON.stringify(secret)}`);
    await sleep(200);
  }
}

function decoded(secret: V1Secret | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(secret?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
}

describe('secretObjects: the driver syncs mounted files into a Kubernetes Secret', () => {
  it('creates the Secret, updates it on rotation, and the garbage collector removes it with the pod status once the Pod is deleted', async () => {
    const db = (password: string) => JSON.stringify({ username: 'app', password });
    await createSecret(region, 'sync/db', db('first'));
    await putParameter(region, '/sync/api-key', 'api-key-1', 'SecureString');
    await env.createSpc('sync', {
      parameters: {
        region,
        objects: [
          '- objectName: sync/db',
          '  objectType: secretsmanager',
          '  jmesPath:',
          '    - {path: username, objectAlias: db-user}',
          '    - {path: password, objectAlias: db-password}',
          '- objectName: /sync/api-key',
          '  objectType: ssmparameter',
          '  objectAlias: api-key',
        ].join('\n'),
      },
      secretObjects: [
        {
          secretName: 'app-credentials',
          type: 'Opaque',
          labels: { app: 'e2e' },
          data: [
            { objectName: 'db-user', key: 'username' },
            { objectName: 'db-password', key: 'password' },
            { objectName: 'api-key', key: 'api-key' },
          ],
        },
      ],
    });
    const pod = await env.pod('sync', 'sync');
    await pod.publish();
    expect(pod.contents()).toMatchObject({ 'db-user': 'app', 'db-password': 'first', 'api-key': 'api-key-1' });

    const created = await eventually('app-credentials', (s) => s !== undefined);
    expect(decoded(created)).toEqual({ username: 'app', password: 'first', 'api-key': 'api-key-1' });
    expect(created.type).toBe('Opaque');
    expect(created.metadata?.labels).toEqual({ app: 'e2e', 'secrets-store.csi.k8s.io/managed': 'true' });

    // The driver's patcher (every 5 s) makes the pod status the Secret's owner: the pod has no owner itself.
    const status = await pod.podStatus();
    const owned = await eventually('app-credentials', (s) => (s?.metadata?.ownerReferences?.length ?? 0) > 0);
    expect(owned.metadata?.ownerReferences).toEqual([
      {
        apiVersion: 'secrets-store.csi.x-k8s.io/v1',
        kind: 'SecretProviderClassPodStatus',
        name: pod.podStatusName,
        uid: status?.metadata.uid,
      },
    ]);

    // A re-publish with nothing changed leaves the Secret alone.
    const unchangedVersion = owned.metadata?.resourceVersion;
    await pod.republish();
    await sleep(500);
    expect((await readSecret('app-credentials'))?.metadata?.resourceVersion).toBe(unchangedVersion);

    // Rotation: a new version changes the pod status, whose update makes the driver rewrite the Secret.
    await putSecretValue(region, 'sync/db', db('second'));
    await pod.republish();
    expect(pod.contents()).toMatchObject({ 'db-password': 'second' });
    const rotated = await eventually('app-credentials', (s) => decoded(s).password === 'second');
    expect(decoded(rotated)).toEqual({ username: 'app', password: 'second', 'api-key': 'api-key-1' });
    // A race in the driver: on rotation it rewrites the Secret with a plain Update of a fresh object, which drops
    // its owner references, and only its patcher (every 5 s) puts them back. Were the Pod deleted inside that
    // window, the garbage collector could remove the pod status before the patcher's next tick, and then nothing
    // restores the reference: the Secret, owned by nothing, would stay for good. Wait for the reference first.
    await eventually('app-credentials', (s) => s?.metadata?.ownerReferences?.[0]?.uid === status?.metadata.uid);

    // The pod goes away: kubelet unpublishes, then the Pod object is deleted.
    await pod.unpublish();
    expect(pod.mountOfTarget()).toBeUndefined();
    // The driver deletes neither the pod status nor the Secret: both are left to Kubernetes' garbage collector,
    // through the owner references Secret → SecretProviderClassPodStatus → Pod.
    const lastStatus = await pod.podStatus();
    expect(lastStatus?.metadata.ownerReferences).toEqual([
      expect.objectContaining({ apiVersion: 'v1', kind: 'Pod', name: 'sync', uid: pod.uid }),
    ]);
    expect(lastStatus?.status.mounted).toBe(true);
    const left = await readSecret('app-credentials');
    expect(left?.metadata?.ownerReferences?.map((o) => o.uid)).toEqual([lastStatus?.metadata.uid]);
    await pod.delete();

    // The real garbage collector (kube-controller-manager) removes the pod status once its Pod is gone, then the
    // Secret once its pod status is gone: two rounds of it, well under a second here.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const [podStatus, secret] = await Promise.all([pod.podStatus(), readSecret('app-credentials')]);
      if (podStatus === undefined && secret === undefined) break;
      if (Date.now() > deadline) {
        throw new Error(
          `the garbage collector left ${[podStatus && `pod status ${pod.podStatusName}`, secret && 'Secret app-credentials']
            .filter(Boolean)
            .join(' and ')} 20 s after the Pod was deleted`,
        );
      }
      await sleep(250);
    }
  });
});
