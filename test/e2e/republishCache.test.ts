import { describe, expect, it } from 'vitest';
import { useCsiEnvironment } from '../harness/csi/environment.js';
import { KubeletPod } from '../harness/csi/kubelet.js';
import { createSecret, putSecretValue } from '../harness/moto.js';
import { IRSA_AUDIENCE, POD_IDENTITY_AUDIENCE } from '../harness/mountEnvironment.js';

const env = useCsiEnvironment({ providerArgs: ['--rotation-cache-ttl=10m'] });
const region = 'eu-central-1';
const objects = '- objectName: cached/secret\n  objectType: secretsmanager\n  objectAlias: secret\n';

function awsCalls() {
  return env.proxy.records.filter((r) => r.service === 'secretsmanager' || r.service === 'ssm');
}

describe('rotation re-publishes through the real driver, with --rotation-cache-ttl', () => {
  it("a re-publish within the TTL makes no AWS call; a new pod of the same service account fetches the rotated value", async () => {
    await createSecret(region, 'cached/secret', 'v1');
    await env.createSpc('cached', { parameters: { region, objects } });
    const first = await env.pod('cached-0', 'cached');
    await first.publish();
    expect(first.contents()).toEqual({ secret: 'v1' });

    await putSecretValue(region, 'cached/secret', 'v2');
    env.proxy.clearRecords();
    await first.republish();
    expect(awsCalls()).toEqual([]);
    expect(first.contents()).toEqual({ secret: 'v1' });

    // Another pod of the same Deployment: the same service account and SecretProviderClass, its own volume.
    const second = await new KubeletPod(env.driver, {
      namespace: env.namespace,
      name: 'cached-1',
      serviceAccountName: 'cached-0-sa',
      secretProviderClass: 'cached',
      tokenAudiences: [IRSA_AUDIENCE, POD_IDENTITY_AUDIENCE],
    }).create();
    await second.publish();
    expect(second.contents()).toEqual({ secret: 'v2' });
    expect(awsCalls().map((r) => r.action)).toEqual(['BatchGetSecretValue']);

    await first.unpublish();
    await second.unpublish();
  });
});
