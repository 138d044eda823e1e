/**
 * Rotation re-publishes and the answer cache (--rotation-cache-ttl) through the provider process, against moto behind
 * the fault proxy: which Mounts reach AWS is read from the proxy's record, never inferred from timing.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { countCalls, fetchMetrics, metricSum } from '../../bench/measure.js';
import { createSecret, putParameter, putSecretValue } from '../../harness/moto.js';
import { useMountEnvironment, type PodIdentityFixture } from '../../harness/mountEnvironment.js';

const REGION = 'us-east-1';
const FAILOVER_REGION = 'us-west-2';
// Small enough that two answers of ~150 bytes do not fit together; the other cases' answers are a few dozen bytes.
const env = useMountEnvironment({ providerArgs: ['--rotation-cache-ttl=10m', '--rotation-cache-size=200'] });
const run = randomBytes(3).toString('hex');

const volume = (pod: string) => `/var/lib/kubelet/pods/${run}-${pod}/volumes/kubernetes.io~csi/secrets/mount`;

function objectsOf(secret: string, parameter?: string) {
  return [
    { objectName: secret, objectType: 'secretsmanager', objectAlias: 'secret' },
    ...(parameter === undefined ? [] : [{ objectName: parameter, objectType: 'ssmparameter', objectAlias: 'parameter' }]),
  ];
}

async function mounted(
  who: PodIdentityFixture,
  objects: unknown[],
  targetPath: string,
  parameters: Record<string, string> = { region: REGION },
) {
  const response = await env.mount(who, { parameters, objects, targetPath });
  return {
    files: Object.fromEntries(response.files.map((f) => [f.path, Buffer.from(f.contents).toString()])),
    versions: Object.fromEntries(response.objectVersion.map((v) => [v.id, v.version])),
  };
}

/** The AWS calls (by `service:Action`) that `work` caused. */
async function callsOf(work: () => Promise<unknown>) {
  env.proxy.clearRecords();
  await work();
  return countCalls(env.proxy.records).byAction;
}

const metric = async (name: string, labels: Record<string, string>) =>
  metricSum(await fetchMetrics(env.provider.metricsUrl), name, labels);

describe('re-publishes within --rotation-cache-ttl', () => {
  it('a re-publish makes 0 AWS calls; a first mount of a new pod of the same Deployment makes its own', async () => {
    const secret = `${run}/deploy/secret`;
    const parameter = `/${run}/deploy/parameter`;
    await createSecret(REGION, secret, 's-v1');
    await putParameter(REGION, parameter, 'p-v1');
    const objects = objectsOf(secret, parameter);
    const pod0 = await env.pod('deploy-0', { serviceAccount: 'deploy' });
    const pod1 = { ...pod0, pod: { ...pod0.pod, name: 'deploy-1' } };
    await mounted(pod0, objects, volume('deploy-0'));
    const rotated = await putSecretValue(REGION, secret, 's-v2');

    let republished: Awaited<ReturnType<typeof mounted>> | undefined;
    expect(await callsOf(async () => (republished = await mounted(pod0, objects, volume('deploy-0'))))).toEqual({});
    expect(republished!.files).toEqual({ secret: 's-v1', parameter: 'p-v1' });

    let fresh: Awaited<ReturnType<typeof mounted>> | undefined;
    const firstMount = await callsOf(async () => (fresh = await mounted(pod1, objects, volume('deploy-1'))));
    expect(firstMount).toEqual({ 'secretsmanager:BatchGetSecretValue': 1, 'ssm:GetParameters': 1 });
    expect(fresh!.files).toEqual({ secret: 's-v2', parameter: 'p-v1' });
    expect(fresh!.versions.secret).toBe(rotated.versionId);
    expect(await metric('aws_provider_answer_cache_requests_total', { kind: 'republish', result: 'hit' })).toBe(1);
  });

  it("two identities never share an answer: a second service account mounting the same SecretProviderClass makes its own calls", async () => {
    const secret = `${run}/shared/secret`;
    await createSecret(REGION, secret, 'v1');
    const objects = objectsOf(secret);
    const a = await env.pod('team-a-0', { serviceAccount: 'team-a' });
    const b = await env.pod('team-b-0', { serviceAccount: 'team-b' });
    await mounted(a, objects, volume('team-a-0'));
    await putSecretValue(REGION, secret, 'v2');

    const bFirst = await callsOf(() => mounted(b, objects, volume('team-b-0')));
    expect(bFirst).toEqual({ 'sts:AssumeRoleWithWebIdentity': 1, 'secretsmanager:BatchGetSecretValue': 1 });
    // team-b's fetch (v2) is not team-a's: team-a's re-publish is answered from team-a's own fetch.
    let aAgain: Awaited<ReturnType<typeof mounted>> | undefined;
    expect(await callsOf(async () => (aAgain = await mounted(a, objects, volume('team-a-0'))))).toEqual({});
    expect(aAgain!.files).toEqual({ secret: 'v1' });
    expect((await mounted(b, objects, volume('team-b-0'))).files).toEqual({ secret: 'v2' });
  });

  it('the cache is bounded in bytes: an answer pushed out is fetched again at its next re-publish', async () => {
    const big = (n: number) => `${n}`.repeat(150);
    const x = `${run}/bound/x`;
    const y = `${run}/bound/y`;
    await createSecret(REGION, x, big(1));
    await createSecret(REGION, y, big(2));
    const who = await env.pod('bound-0', { serviceAccount: 'bound' });
    await mounted(who, objectsOf(x), volume('bound-x'));
    await mounted(who, objectsOf(y), volume('bound-y'));

    expect(await callsOf(() => mounted(who, objectsOf(y), volume('bound-y')))).toEqual({});
    expect(await callsOf(() => mounted(who, objectsOf(x), volume('bound-x')))).toEqual({
      'secretsmanager:BatchGetSecretValue': 1,
    });
  });
});

describe('BatchGetSecretValue throttled', () => {
  it('the Mount succeeds through GetSecretValue with the right values and versions, and nothing goes to the failover region', async () => {
    const names = [1, 2, 3].map((i) => `${run}/throttled/${i}`);
    const versions = await Promise.all(names.map((name, i) => createSecret(REGION, name, `primary-${i}`)));
    await Promise.all(names.map((name, i) => createSecret(FAILOVER_REGION, name, `failover-${i}`)));
    const who = await env.pod('throttled-0', { serviceAccount: 'throttled' });
    env.proxy.setFault({ kind: 'throttle', service: 'secretsmanager', action: 'BatchGetSecretValue' });
    const objects = names.map((objectName, i) => ({ objectName, objectType: 'secretsmanager', objectAlias: `s${i}` }));

    env.proxy.clearRecords();
    const result = await mounted(who, objects, volume('throttled-0'), {
      region: REGION,
      failoverRegion: FAILOVER_REGION,
    });

    expect(result.files).toEqual({ s0: 'primary-0', s1: 'primary-1', s2: 'primary-2' });
    expect(result.versions).toEqual({ s0: versions[0]!.versionId, s1: versions[1]!.versionId, s2: versions[2]!.versionId });
    const fetches = env.proxy.records.filter((r) => r.service === 'secretsmanager');
    expect(fetches.filter((r) => r.region === FAILOVER_REGION)).toEqual([]);
    const batches = fetches.filter((r) => r.action === 'BatchGetSecretValue');
    expect(batches.length).toBeGreaterThan(0);
    expect(batches.every((r) => r.fault === 'throttle')).toBe(true);
    expect(fetches.filter((r) => r.action === 'GetSecretValue').flatMap((r) => r.secretIds).sort()).toEqual(names);
    expect(await metric('aws_provider_fetch_strategy_switches_total', { region: REGION, to: 'GetSecretValue' })).toBe(1);
    expect(
      await metric('aws_provider_aws_api_throttles_total', { action: 'BatchGetSecretValue', region: REGION }),
    ).toBe(batches.length);
  });
});
