/**
 * First mounts before rotation while AWS throttles a region: a first mount asks again for what AWS still throttles
 * after the SDK's retries, for --throttle-wait (here 3 s); re-publishes are answered from answers past
 * --rotation-cache-ttl (here 2 s, waited out) within --rotation-cache-grace, never after it. The region counts as
 * throttling for the grace after a throttled call. Against moto behind the fault proxy, which throttles what each case
 * says.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fetchMetrics, metricSum } from '../../bench/measure.js';
import { createSecret, putParameter, putSecretValue } from '../../harness/moto.js';
import { mountFailure } from '../operations/support.js';
import { useMountEnvironment, type PodIdentityFixture } from '../../harness/mountEnvironment.js';

const REGION = 'us-east-1';
const TTL_MS = 2000;
const GRACE_MS = 5000;
const env = useMountEnvironment({
  providerArgs: [`--rotation-cache-ttl=${TTL_MS}ms`, `--rotation-cache-grace=${GRACE_MS}ms`, '--throttle-wait=3s'],
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const run = randomBytes(3).toString('hex');

const volume = (pod: string) => `/var/lib/kubelet/pods/${run}-${pod}/volumes/kubernetes.io~csi/secrets/mount`;
const objectsOf = (secret: string) => [{ objectName: secret, objectType: 'secretsmanager', objectAlias: 'secret' }];

const mountSecret = (who: PodIdentityFixture, secret: string, targetPath: string) =>
  env.mount(who, { parameters: { region: REGION }, objects: objectsOf(secret), targetPath });

async function contents(who: PodIdentityFixture, secret: string, targetPath: string) {
  const response = await mountSecret(who, secret, targetPath);
  return Buffer.from(response.files[0]!.contents).toString();
}

const answers = async (result: 'stale' | 'deferred') =>
  metricSum(await fetchMetrics(env.provider.metricsUrl), 'aws_provider_answer_cache_requests_total', {
    kind: 'republish',
    result,
  });
const stale = () => answers('stale');

/** Waits until the proxy has throttled `count` calls to `service` since its records were last cleared. */
async function waitForThrottled(service: string, count: number): Promise<void> {
  while (env.proxy.records.filter((r) => r.service === service && r.fault === 'throttle').length < count) await sleep(50);
}

describe('a region that throttles', () => {
  // First in the file: no case before it has throttled the region, so the back-off it sees is its own.
  it('a first mount asks again for what stays throttled past the SDK\'s retries, and re-publishes then back off for the grace', async () => {
    const secret = `${run}/waited-secret`;
    const parameter = `/${run}/waited-parameter`;
    await createSecret(REGION, secret, 'secret-value');
    await putParameter(REGION, parameter, 'parameter-value');
    const objects = [
      { objectName: secret, objectType: 'secretsmanager', objectAlias: 'secret' },
      { objectName: parameter, objectType: 'ssmparameter', objectAlias: 'parameter' },
    ];
    const who = await env.pod('waited-0', { serviceAccount: 'waited' });
    const secretsOnly = `${run}/secrets-only`;
    await createSecret(REGION, secretsOnly, 's1');
    expect(await contents(who, secretsOnly, volume('secrets-only-0'))).toBe('s1');
    env.proxy.clearRecords();
    // Two more throttled answers than the SDK's 3 attempts take.
    env.proxy.setFault({ kind: 'throttle', service: 'ssm', times: 5 });

    const response = await env.mount(who, { parameters: { region: REGION }, objects, targetPath: volume('waited-0') });

    const files = Object.fromEntries(response.files.map((f) => [f.path, Buffer.from(f.contents).toString()]));
    expect(files).toEqual({ secret: 'secret-value', parameter: 'parameter-value' });
    // Only the throttled parameter was asked for again; the secret's batch went out once.
    const calls = (service: string) => env.proxy.records.filter((r) => r.service === service).map((r) => r.status);
    expect(calls('ssm')).toEqual([400, 400, 400, 400, 400, 200]);
    expect(calls('secretsmanager')).toEqual([200]);

    // Past the TTL, nothing throttled for longer than the TTL: the region still counts as throttling for the grace,
    // so the re-publish is answered from the answer, without a call.
    env.proxy.clearFaults();
    await sleep(TTL_MS + 500);
    const staleBefore = await stale();
    env.proxy.clearRecords();
    const again = await env.mount(who, { parameters: { region: REGION }, objects, targetPath: volume('waited-0') });
    expect(again.files.map((f) => f.path).sort()).toEqual(['parameter', 'secret']);
    expect(env.proxy.records).toEqual([]);
    expect(await stale()).toBe(staleBefore + 1);

    // Parameter Store throttled, not Secrets Manager: a re-publish of secrets alone past the TTL is fetched.
    await putSecretValue(REGION, secretsOnly, 's2');
    expect(await contents(who, secretsOnly, volume('secrets-only-0'))).toBe('s2');
    expect(env.proxy.records.map((r) => r.service)).toEqual(['secretsmanager']);
  });

  it('a first mount still throttled after --throttle-wait fails naming the wait, with no files', async () => {
    const parameter = `/${run}/never`;
    await putParameter(REGION, parameter, 'never-served');
    const who = await env.pod('never-0', { serviceAccount: 'never' });
    env.proxy.clearRecords();
    env.proxy.setFault({ kind: 'throttle', service: 'ssm' });

    const failed = await mountFailure(
      env.mount(who, {
        parameters: { region: REGION },
        objects: [{ objectName: parameter, objectType: 'ssmparameter' }],
        targetPath: volume('never-0'),
      }),
    );
    env.proxy.clearFaults();

    expect(failed.message).toMatch(/ThrottlingException.*\(asked again \d+ times? over [\d.]+ s, still throttled\)/);
    expect(failed.message).not.toContain('never-served');
    // More calls than the SDK's 3 attempts: the Mount asked again within the wait.
    expect(env.proxy.records.filter((r) => r.service === 'ssm').length).toBeGreaterThan(3);
  });

  it('a throttled BatchGetSecretValue alone holds no re-publish back: both go out as GetSecretValue, whose quota is larger', async () => {
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
    expect(await contents(who, running, volume('app-0'))).toBe('v2');

    expect(env.proxy.records.filter((r) => r.action === 'GetSecretValue').flatMap((r) => r.secretIds)).toEqual([starting, running]);
    expect(await stale()).toBe(staleBefore);
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
    const failed = await mountFailure(mountSecret(who, secret, volume('graced-0')));

    expect(failed.message).toMatch(/ThrottlingException/);
    expect(env.proxy.records.some((r) => r.secretIds.includes(secret))).toBe(true);
    expect(await stale()).toBe(staleBefore);

    // Its next re-publish within the TTL makes no call at all: it fails saying why, and the pod keeps its files.
    env.proxy.clearRecords();
    const deferredBefore = await answers('deferred');
    const deferred = await mountFailure(mountSecret(who, secret, volume('graced-0')));
    expect(deferred.message).toMatch(/not fetched again for this rotation re-publish: AWS throttles them in us-east-1 and its last fetch was throttled/);
    expect(env.proxy.records).toEqual([]);
    expect(await answers('deferred')).toBe(deferredBefore + 1);
  });

  it('past the grace, a re-publish makes no call while a first mount waits for the same service\'s quota', async () => {
    const secret = `${run}/behind`;
    const runningParameter = `/${run}/behind`;
    const startingParameter = `/${run}/starting`;
    await createSecret(REGION, secret, 'v1');
    await putParameter(REGION, runningParameter, 'p1');
    await putParameter(REGION, startingParameter, 'starting-value');
    const running = [
      { objectName: secret, objectType: 'secretsmanager', objectAlias: 'secret' },
      { objectName: runningParameter, objectType: 'ssmparameter', objectAlias: 'parameter' },
    ];
    const who = await env.pod('behind-0', { serviceAccount: 'behind' });
    const republish = () => env.mount(who, { parameters: { region: REGION }, objects: running, targetPath: volume('behind-0') });
    expect((await republish()).files).toHaveLength(2);
    await sleep(TTL_MS + GRACE_MS + 500);
    env.proxy.setFault({ kind: 'throttle', service: 'ssm' });
    const starting = env.mount(
      { ...who, pod: { ...who.pod, name: 'behind-1' } },
      { parameters: { region: REGION }, objects: [{ objectName: startingParameter, objectType: 'ssmparameter' }], targetPath: volume('behind-1') },
    );
    const startingFailed = starting.then(
      () => undefined,
      (err: Error) => err,
    );
    // The first mount's calls have been throttled (the SDK's attempts), and it is waiting for the quota.
    await waitForThrottled('ssm', 3);
    env.proxy.clearRecords();

    const deferred = await mountFailure(republish());

    expect(deferred.message).toMatch(/AWS throttles them in us-east-1 and first mounts are waiting for its quota/);
    expect(deferred.message).not.toContain('p1');
    expect(env.proxy.records.filter((r) => r.service === 'secretsmanager')).toEqual([]);
    env.proxy.clearFaults();
    expect(await startingFailed).toBeUndefined();
  });
});
