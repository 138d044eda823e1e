/**
 * First mounts before rotation while AWS throttles a region: re-publishes are answered from answers past
 * --rotation-cache-ttl (here 2 s, waited out) within --rotation-cache-grace, never after it. The region counts as
 * throttling for the TTL after a throttled call. Against moto behind the fault proxy, which throttles what each case
 * says.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fetchMetrics, metricSum } from '../../bench/measure.js';
import { createSecret, putSecretValue } from '../../harness/moto.js';
import { useMountEnvironment, type PodIdentityFixture } from '../../harness/mountEnvironment.js';

const REGION = 'us-east-1';
const TTL_MS = 2000;
const GRACE_MS = 5000;
const env = useMountEnvironment({
  providerArgs: [`--rotation-cache-ttl=${TTL_MS}ms`, `--rotation-cache-grace=${GRACE_MS}ms`],
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const run = randomBytes(3).toString('hex');

const volume = (pod: string) => `/var/lib/kubelet/pods/${run}-${pod}/volumes/kubernetes.io~csi/secrets/mount`;
const objectsOf = (secret: string) => [{ objectName: secret, objectType: 'secretsmanager', objectAlias: 'secret' }];

async function contents(who: PodIdentityFixture, secret: string, targetPath: string) {
  const response = await env.mount(who, { parameters: { region: REGION }, objects: objectsOf(secret), targetPath });
  return Buffer.from(response.files[0]!.contents).toString();
}

const stale = async () =>
  metricSum(await fetchMetrics(env.provider.metricsUrl), 'aws_provider_answer_cache_requests_total', {
    kind: 'republish',
    result: 'stale',
  });

describe('a region that throttles', () => {
  it('a first mount succeeds while a re-publish is served stale, with its log line and metric', async () => {
    const running = `${run}/running`;
    const starting = `${run}/starting`;
    await createSecret(REGION, running, 'v1');
    await createSecret(REGION, starting, 'new-pod-value');
    const who = await env.pod('app-0', { serviceAccount: 'app' });
    expect(await contents(who, running, volume('app-0'))).toBe('v1');
    await putSecretValue(REGION, running, 'v2');
    await sleep(TTL_MS + 100);
    const staleBefore = await stale();
    env.proxy.setFault({ kind: 'throttle', service: 'secretsmanager', action: 'BatchGetSecretValue' });

    env.proxy.clearRecords();
    expect(await contents({ ...who, pod: { ...who.pod, name: 'app-1' } }, starting, volume('app-1'))).toBe('new-pod-value');
    expect(await contents(who, running, volume('app-0'))).toBe('v1');

    // The first mount went through GetSecretValue; the re-publish made no call at all.
    expect(env.proxy.records.filter((r) => r.action === 'GetSecretValue').flatMap((r) => r.secretIds)).toEqual([starting]);
    expect(env.proxy.records.some((r) => r.secretIds.includes(running))).toBe(false);
    expect(await stale()).toBe(staleBefore + 1);
    expect(env.provider.output()).toMatch(/"msg":"republish served stale"/);
  });

  it('an answer past the TTL and the grace is never served: the throttled re-publish fails', async () => {
    const secret = `${run}/graced`;
    await createSecret(REGION, secret, 'v1');
    const who = await env.pod('graced-0', { serviceAccount: 'graced' });
    expect(await contents(who, secret, volume('graced-0'))).toBe('v1');
    await sleep(TTL_MS + GRACE_MS + 500);
    env.proxy.setFault({ kind: 'throttle', service: 'secretsmanager' });
    const staleBefore = await stale();

    env.proxy.clearRecords();
    const failed = await contents(who, secret, volume('graced-0')).then(
      () => undefined,
      (err: Error) => err,
    );

    expect(failed?.message).toMatch(/ThrottlingException/);
    expect(env.proxy.records.some((r) => r.secretIds.includes(secret))).toBe(true);
    expect(await stale()).toBe(staleBefore);
  });
});
