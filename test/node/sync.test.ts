import { AppsV1Api } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { createSecretProviderClass } from '../harness/csi/cluster.js';
import { coreV1, kubeConfig } from '../harness/kube.js';
import { createSecret, putParameter } from '../harness/moto.js';
import { appPod, useNodeProvider, waitFor, waitForView } from '../harness/node/workloads.js';

const NAMESPACE = 'node-sync';
useNodeProvider(NAMESPACE);
const REGION = 'us-west-2';

describe('sync to a Kubernetes Secret', () => {
  it('a Deployment reads the synced Secret as an env var; deleting the Deployment deletes the Secret', async () => {
    await createSecret(REGION, 'SyncJson', JSON.stringify({ username: 'carol', password: 'pw-sync' }));
    await putParameter(REGION, 'SyncParam', 'param-sync');
    await createSecretProviderClass(NAMESPACE, 'sync', {
      parameters: {
        region: REGION,
        objects:
          '- objectName: SyncJson\n  objectType: secretsmanager\n  jmesPath:\n    - path: username\n      objectAlias: dbuser\n' +
          '- objectName: SyncParam\n  objectType: ssmparameter\n',
      },
      secretObjects: [{ secretName: 'synced', type: 'Opaque', data: [{ objectName: 'dbuser', key: 'username' }, { objectName: 'SyncParam', key: 'param' }] }],
    });
    const template = appPod({
      namespace: NAMESPACE,
      name: 'sync',
      serviceAccountName: 'app',
      spc: 'sync',
      secretEnv: { DB_USER: { secret: 'synced', key: 'username' } },
    });
    const apps = kubeConfig().makeApiClient(AppsV1Api);
    await apps.createNamespacedDeployment({
      namespace: NAMESPACE,
      body: {
        metadata: { name: 'sync' },
        spec: { replicas: 1, selector: { matchLabels: { app: 'sync' } }, template: { metadata: { labels: { app: 'sync' } }, spec: template.spec } },
      },
    });
    const podName = await waitFor('the Deployment has a pod', async () =>
      (await coreV1().listNamespacedPod({ namespace: NAMESPACE, labelSelector: 'app=sync' })).items[0]?.metadata?.name,
    );
    const view = await waitForView(NAMESPACE, podName, (v) => v.env.DB_USER === 'carol');
    expect(view.files).toMatchObject({ dbuser: 'carol', SyncParam: 'param-sync' });
    const secret = await coreV1().readNamespacedSecret({ namespace: NAMESPACE, name: 'synced' });
    expect(Buffer.from(secret.data!.username!, 'base64').toString()).toBe('carol');
    expect(Buffer.from(secret.data!.param!, 'base64').toString()).toBe('param-sync');

    // The driver creates the Secret without an owner; its patcher (every 5 s) gives it the pod's owners (here the
    // Deployment's ReplicaSet). Deleted before that, the pod is gone when the patcher looks it up, and the Secret stays
    // owned by nothing (driver v1.6): wait for the owner, as a user's delete minutes later would find it.
    await waitFor('the synced Secret is owned by the ReplicaSet', async () => {
      const owners = (await coreV1().readNamespacedSecret({ namespace: NAMESPACE, name: 'synced' })).metadata?.ownerReferences ?? [];
      return owners.some((o) => o.kind === 'ReplicaSet' && o.name.startsWith('sync-')) ? true : undefined;
    });
    await apps.deleteNamespacedDeployment({ namespace: NAMESPACE, name: 'sync', propagationPolicy: 'Background' });
    // The Deployment's ReplicaSet and pod go (garbage collector), the pod's SecretProviderClassPodStatus with it,
    // and the synced Secret it owns last.
    await waitFor('the synced Secret is deleted', async () =>
      (await coreV1().readNamespacedSecret({ namespace: NAMESPACE, name: 'synced' }).then(
        () => undefined,
        (err: { code?: number }) => (err.code === 404 ? true : undefined),
      )),
    );
  });
});
