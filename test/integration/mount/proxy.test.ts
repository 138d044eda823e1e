import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecret, putParameter } from '../../harness/moto.js';
import { useMountEnvironment } from '../../harness/mountEnvironment.js';
import { usePeers } from '../../harness/peers.js';
import { PROXY_OUTGOING_ADDRESS, startTinyproxy, type Tinyproxy } from '../../harness/tinyproxy.js';

const REGION = 'eu-west-1';
let proxy: Tinyproxy | undefined;

// Started before the provider (hooks run in order), which takes it from its env as a cluster's egress proxy is given.
beforeAll(async () => {
  proxy = await startTinyproxy();
});
afterAll(async () => {
  await proxy?.close();
});

const env = useMountEnvironment({
  providerEnv: () => ({ AWS_REGION: REGION, HTTPS_PROXY: proxy!.url, HTTP_PROXY: proxy!.url, NO_PROXY: '' }),
});

describe('the provider behind an HTTP proxy', () => {
  it('sends every STS, Secrets Manager and SSM call through it, and reaches the Kubernetes API directly', async () => {
    await createSecret(REGION, 'proxied-secret', 'secret-value');
    await putParameter(REGION, '/proxied/parameter', 'parameter-value');
    const who = await env.pod('proxied');

    const response = await env.mount(who, {
      objects: [
        { objectName: 'proxied-secret', objectType: 'secretsmanager' },
        { objectName: '/proxied/parameter', objectType: 'ssmparameter' },
      ],
    });

    expect(response.files.map((file) => [file.path, file.contents.toString()])).toEqual([
      ['proxied-secret', 'secret-value'],
      ['_proxied_parameter', 'parameter-value'],
    ]);
    const calls = env.proxy.records;
    expect(calls.map((r) => r.action).sort()).toEqual(['AssumeRoleWithWebIdentity', 'BatchGetSecretValue', 'GetParameters']);
    // Each came to the fault proxy from tinyproxy's outgoing address: none bypassed it.
    expect(calls.every((r) => r.remoteAddress === PROXY_OUTGOING_ADDRESS)).toBe(true);
    // tinyproxy's own log: tunnels to the AWS endpoint only, none to the apiserver the provider read the pod's
    // ServiceAccount from (its HTTPS_PROXY notwithstanding).
    const tunnels = new Set(await proxy!.connects());
    expect(tunnels).toEqual(new Set([new URL(env.proxy.url).host]));
    expect(tunnels.has(new URL(usePeers().kube.server).host)).toBe(false);
  });
});
