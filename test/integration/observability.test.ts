import { status, type ServiceError } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { coreV1 } from '../harness/kube.js';
import { createSecret } from '../harness/moto.js';
import { useMountEnvironment } from '../harness/mountEnvironment.js';

const REGION = 'eu-central-1';
const env = useMountEnvironment({ providerEnv: { AWS_REGION: REGION } });

async function metricsText(): Promise<string> {
  const res = await fetch(`${env.provider.metricsUrl}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

/** The value of one sample, e.g. sample(text, 'aws_provider_mounts_total{result="ok",code=""}'). */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe('metrics and health', () => {
  it('/healthz and /readyz answer 200 while the socket serves', async () => {
    expect((await fetch(`${env.provider.metricsUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${env.provider.metricsUrl}/readyz`)).status).toBe(200);
  });

  it('counts successful and failed mounts, AWS calls and Kubernetes calls', async () => {
    await createSecret(REGION, 'metered', 'secret-value-for-metrics');
    const who = await env.pod('metered');
    const before = await metricsText();

    await env.mount(who, { objects: [{ objectName: 'metered', objectType: 'secretsmanager' }] });
    await env
      .mount(who, { objects: [{ objectName: 'missing', objectType: 'secretsmanager' }] })
      .catch(() => undefined);
    await env.mount(who, { objects: [{ objectName: 'x', objectType: 'nope' }] }).catch(() => undefined);

    const after = await metricsText();
    const delta = (series: string) => sample(after, series) - sample(before, series);
    expect(delta('aws_provider_mounts_total{result="ok",code=""}')).toBe(1);
    expect(delta('aws_provider_mounts_total{result="error",code="ObjectNotFound"}')).toBe(1);
    expect(delta('aws_provider_mounts_total{result="error",code="InvalidSecretProviderClass"}')).toBe(1);
    expect(
      delta(`aws_provider_aws_api_calls_total{service="secretsmanager",action="BatchGetSecretValue",region="${REGION}",outcome="ok"}`),
    ).toBeGreaterThanOrEqual(1);
    expect(delta('aws_provider_kubernetes_api_calls_total{resource="serviceaccounts",outcome="ok"}')).toBe(1);
    expect(after).toContain('aws_provider_mount_duration_seconds_bucket');
    // Labels carry codes and regions, never names or values.
    expect(after).not.toContain('secret-value-for-metrics');
    expect(after).not.toContain('metered');
  });

  it("labels a failed Mount with its code, its status from the error table: a pod's ServiceAccount deleted", async () => {
    await createSecret(REGION, 'orphan', 'v');
    const who = await env.pod('orphaned');
    await coreV1().deleteNamespacedServiceAccount({ namespace: env.namespace, name: who.pod.serviceAccountName });
    const before = await metricsText();

    const error = (await env
      .mount(who, { objects: [{ objectName: 'orphan', objectType: 'secretsmanager' }] })
      .then(() => expect.fail('the Mount succeeded'), (e: unknown) => e)) as ServiceError;

    expect(error.code, error.details).toBe(status.NOT_FOUND);
    expect(error.details).toBe(
      `KubernetesNotFound: Kubernetes API: get serviceaccount ${env.namespace}/${who.pod.serviceAccountName}: not found`,
    );
    expect(error.metadata.get('x-provider-error-code')).toEqual(['KubernetesNotFound']);
    const after = await metricsText();
    expect(sample(after, 'aws_provider_mounts_total{result="error",code="KubernetesNotFound"}') -
      sample(before, 'aws_provider_mounts_total{result="error",code="KubernetesNotFound"}')).toBe(1);
    expect(env.proxy.records).toEqual([]);
  });

  it('counts failovers and throttled calls by region', async () => {
    await createSecret(REGION, 'fo', 'a');
    await createSecret('eu-west-3', 'fo', 'b');
    const who = await env.pod('failover-metrics');
    env.proxy.setFault({ region: REGION, kind: 'throttle' });
    const before = await metricsText();

    await env.mount(who, {
      parameters: { failoverRegion: 'eu-west-3' },
      objects: [{ objectName: 'fo', objectType: 'secretsmanager' }],
    });

    const after = await metricsText();
    const delta = (series: string) => sample(after, series) - sample(before, series);
    expect(delta(`aws_provider_failovers_total{region="${REGION}",failover_region="eu-west-3"}`)).toBe(1);
    expect(
      delta(`aws_provider_aws_api_calls_total{service="secretsmanager",action="BatchGetSecretValue",region="${REGION}",outcome="throttled"}`),
    ).toBe(1);
    expect(
      delta(`aws_provider_aws_api_retries_total{service="secretsmanager",action="BatchGetSecretValue",region="${REGION}"}`),
    ).toBe(2);
  });
});
