/**
 * The call counts behind the benchmark's figures (npm run bench, S1, S2 and S4), asserted exactly, so a
 * regression in batching, coalescing or caching fails CI. AWS calls come from the fault proxy's record,
 * Kubernetes calls from the provider's own metric and the apiserver's audit log. Speed is the benchmark's
 * business, never asserted here.
 */
import { describe, expect, it } from 'vitest';
import { countCalls, fetchMetrics, kubernetesCalls } from '../../bench/measure.js';
import { benchAnswer, benchObjects, benchValue } from '../../bench/spc.js';
import { auditedGets } from '../../harness/audit.js';
import { serviceAccountTokens } from '../../harness/kube.js';
import { createSecret, putParameter } from '../../harness/moto.js';
import { IRSA_AUDIENCE, useMountEnvironment, type PodIdentityFixture } from '../../harness/mountEnvironment.js';

const REGION = 'us-east-1';
const FAILOVER_REGION = 'us-west-2';
const env = useMountEnvironment();
const objects = benchObjects();

/** The S1 SecretProviderClass's 20 secrets and 20 parameters, in `region`. */
async function seed(region: string): Promise<void> {
  await Promise.all(
    objects.map((o, i) =>
      o.objectType === 'secretsmanager'
        ? createSecret(region, o.objectName, benchValue(o, i, region))
        : putParameter(region, o.objectName, benchValue(o, i, region), 'SecureString'),
    ),
  );
}

async function kubeCalls() {
  return kubernetesCalls(await fetchMetrics(env.provider.metricsUrl));
}

/** The AWS calls and the provider's Kubernetes calls that `work` caused. */
async function counted(work: () => Promise<unknown>) {
  env.proxy.clearRecords();
  const before = await kubeCalls();
  await work();
  const after = await kubeCalls();
  const calls = countCalls(env.proxy.records);
  return {
    ...calls,
    kube: {
      serviceaccounts: after.serviceaccounts - before.serviceaccounts,
      pods: after.pods - before.pods,
      nodes: after.nodes - before.nodes,
    },
  };
}

function mountAll(who: PodIdentityFixture, parameters: Record<string, string> = { region: REGION }) {
  return env.mount(who, { parameters, objects }).then((response) => {
    expect(response.files).toHaveLength(objects.length);
    return response;
  });
}

describe('S1: one SecretProviderClass of 20 secrets and 20 parameters', () => {
  it('first mount: 1 BatchGetSecretValue, 2 GetParameters, 1 STS call, 1 ServiceAccount GET', async () => {
    await seed(REGION);
    const who = await env.pod('s1-first');

    let response: Awaited<ReturnType<typeof mountAll>> | undefined;
    const first = await counted(async () => (response = await mountAll(who)));

    expect(first.byAction).toEqual({
      'secretsmanager:BatchGetSecretValue': 1,
      'ssm:GetParameters': 2,
      'sts:AssumeRoleWithWebIdentity': 1,
    });
    expect(first.kube).toEqual({ serviceaccounts: 1, pods: 0, nodes: 0 });
    expect(await auditedGets('serviceaccounts', env.namespace, 's1-first-sa')).toBe(1);
    // The bench's S2 reference answers with benchAnswer: it must be the answer a provider gives, byte for byte.
    const reference = benchAnswer(REGION);
    const files = (r: typeof reference) =>
      r.files.map((f) => ({ path: f.path, mode: f.mode, contents: Buffer.from(f.contents).toString() }));
    expect(files(response!)).toEqual(files(reference));
    expect(response!.objectVersion.map((v) => v.id)).toEqual(reference.objectVersion.map((v) => v.id));
  });

  it('a new pod of the same identity: the same 3 fetch calls, no STS call, no Kubernetes call', async () => {
    await seed(REGION);
    const who = await env.pod('s1-repeat');
    await mountAll(who);

    const repeat = await counted(() => mountAll(who));

    expect(repeat.byAction).toEqual({ 'secretsmanager:BatchGetSecretValue': 1, 'ssm:GetParameters': 2 });
    expect(repeat.kube).toEqual({ serviceaccounts: 0, pods: 0, nodes: 0 });
  });

  it('with failoverRegion and a healthy primary: the same calls, none to the failover region', async () => {
    await seed(REGION);
    await seed(FAILOVER_REGION);
    const who = await env.pod('s4-failover');
    const parameters = { region: REGION, failoverRegion: FAILOVER_REGION };

    const first = await counted(() => mountAll(who, parameters));
    const repeat = await counted(() => mountAll(who, parameters));

    expect(first.byAction).toEqual({
      'secretsmanager:BatchGetSecretValue': 1,
      'ssm:GetParameters': 2,
      'sts:AssumeRoleWithWebIdentity': 1,
    });
    expect(repeat.byAction).toEqual({ 'secretsmanager:BatchGetSecretValue': 1, 'ssm:GetParameters': 2 });
    expect(first.byRegion[FAILOVER_REGION] ?? 0).toBe(0);
    expect(repeat.byRegion[FAILOVER_REGION] ?? 0).toBe(0);
  });
});

describe('S2: 100 pods of one Deployment mounting at once', () => {
  it('1 ServiceAccount GET, 1 STS call and the 3 fetch calls for all of them', async () => {
    await seed(REGION);
    const deployment = await env.pod('s2-pod-0', { serviceAccount: 's2-deployment' });
    // Each pod of the Deployment has a token of its own, as the driver mints them.
    const pods = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => ({
        ...deployment,
        pod: { ...deployment.pod, name: `s2-pod-${i}` },
        tokens: await serviceAccountTokens(env.namespace, 's2-deployment', [IRSA_AUDIENCE]),
      })),
    );
    // A little latency on every call, so that every Mount is in flight while the first ones wait on STS and
    // AWS: what is counted is then the coalescing itself, not how fast this machine delivers 100 requests.
    env.proxy.setFault({ kind: 'delay', ms: 150 });

    const storm = await counted(() => Promise.all(pods.map((pod) => mountAll(pod))));

    expect(storm.byAction).toEqual({
      'secretsmanager:BatchGetSecretValue': 1,
      'ssm:GetParameters': 2,
      'sts:AssumeRoleWithWebIdentity': 1,
    });
    expect(storm.kube).toEqual({ serviceaccounts: 1, pods: 0, nodes: 0 });
    expect(await auditedGets('serviceaccounts', env.namespace, 's2-deployment')).toBe(1);
  });

  it('pods of one identity share a fetch only with pods asking for the same files: each gets its own objects and modes', async () => {
    await seed(REGION);
    const deployment = await env.pod('s2-mixed-0', { serviceAccount: 's2-mixed' });
    const secrets = objects.filter((o) => o.objectType === 'secretsmanager');
    const parameters = objects.filter((o) => o.objectType === 'ssmparameter');
    // Three SecretProviderClasses (or volumes) in flight at once for one identity: all the objects, the secrets
    // only with another file mode, the parameters only.
    const variants = [
      { objects, permission: '420', files: objects.length, mode: 0o644 },
      { objects: secrets, permission: '256', files: secrets.length, mode: 0o400 },
      { objects: parameters, permission: '420', files: parameters.length, mode: 0o644 },
    ];
    env.proxy.setFault({ kind: 'delay', ms: 150 });

    const responses = await Promise.all(
      Array.from({ length: 30 }, (_, i) => {
        const variant = variants[i % variants.length]!;
        const who = { ...deployment, pod: { ...deployment.pod, name: `s2-mixed-${i}` } };
        return env.mount(who, { parameters: { region: REGION }, objects: variant.objects, permission: variant.permission });
      }),
    );

    responses.forEach((response, i) => {
      const variant = variants[i % variants.length]!;
      expect(response.files.map((f) => f.path).sort()).toEqual(variant.objects.map((o) => o.objectName.replaceAll('/', '_')).sort());
      expect(new Set(response.files.map((f) => f.mode))).toEqual(new Set([variant.mode]));
      expect(response.files).toHaveLength(variant.files);
    });
  });
});
