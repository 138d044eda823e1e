import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CUSTOM_VALUES,
  ROOT,
  kubeCall,
  objectPath,
  one,
  parseManifest,
  prepareHelm,
  serverSideApply,
  serviceAccountMay,
  type AccessCheck,
  type DaemonSet,
  type Helm,
  type KubeObject,
} from './support.js';

let helm: Helm;

async function apiserverVersion(): Promise<string> {
  const { body } = await kubeCall('GET', '/version');
  return (body as { gitVersion: string }).gitVersion;
}
beforeAll(async () => {
  helm = await prepareHelm();
});
afterAll(() => helm?.cleanup());

/** Dry run first (every validation and admission step, nothing stored), then the real apply. */
async function apply(objects: KubeObject[]): Promise<void> {
  for (const dryRun of [true, false]) {
    for (const o of objects) {
      const { status, body, warnings } = await serverSideApply(o, dryRun);
      expect(status, `${dryRun ? 'dry run of ' : ''}${o.kind}/${o.metadata.name}: ${JSON.stringify(body)}`).toBeLessThan(300);
      expect(warnings, `${o.kind}/${o.metadata.name}`).toEqual([]);
    }
  }
}

async function remove(objects: KubeObject[]): Promise<void> {
  for (const o of objects.reverse()) await kubeCall('DELETE', objectPath(o));
}

/** The pod the DaemonSet controller would create: proves the pod spec passes pod admission too. */
function podOf(ds: DaemonSet): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `${ds.metadata.name}-probe`, namespace: ds.metadata.namespace, labels: ds.spec.template.metadata.labels },
    spec: ds.spec.template.spec,
  };
}

const ALWAYS_ALLOWED: AccessCheck[] = [
  { verb: 'get', resource: 'serviceaccounts', namespace: 'team-a' },
  { verb: 'get', resource: 'serviceaccounts', namespace: 'default' },
];
const REGION_LOOKUP: AccessCheck[] = [
  { verb: 'get', resource: 'pods', namespace: 'team-a' },
  { verb: 'get', resource: 'nodes' },
];
const NEVER_ALLOWED: AccessCheck[] = [
  { verb: 'get', resource: 'secrets', namespace: 'team-a' },
  { verb: 'list', resource: 'secrets', namespace: 'team-a' },
  { verb: 'list', resource: 'secrets' },
  { verb: 'create', resource: 'serviceaccounts', subresource: 'token', namespace: 'team-a' },
  { verb: 'list', resource: 'serviceaccounts', namespace: 'team-a' },
  { verb: 'watch', resource: 'serviceaccounts' },
  { verb: 'update', resource: 'serviceaccounts', namespace: 'team-a' },
  { verb: 'patch', resource: 'serviceaccounts', namespace: 'team-a' },
  { verb: 'list', resource: 'pods' },
  { verb: 'create', resource: 'pods', namespace: 'team-a' },
  { verb: 'delete', resource: 'pods', namespace: 'team-a' },
  { verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'team-a' },
  { verb: 'list', resource: 'nodes' },
  { verb: 'update', resource: 'nodes' },
  { verb: 'get', resource: 'configmaps', namespace: 'team-a' },
];

async function expectAccess(namespace: string, serviceAccount: string, allowed: AccessCheck[], denied: AccessCheck[]) {
  const describe = (c: AccessCheck) => `${c.verb} ${c.resource}${c.subresource ? `/${c.subresource}` : ''}${c.namespace ? ` in ${c.namespace}` : ''}`;
  const decide = (checks: AccessCheck[]) =>
    Promise.all(checks.map(async (c) => [describe(c), await serviceAccountMay(namespace, serviceAccount, c)] as const));
  expect(Object.fromEntries(await decide(allowed))).toEqual(Object.fromEntries(allowed.map((c) => [describe(c), true])));
  expect(Object.fromEntries(await decide(denied))).toEqual(Object.fromEntries(denied.map((c) => [describe(c), false])));
}

describe('deploy/aws-secrets-csi-provider.yaml on the real kube-apiserver', () => {
  let objects: KubeObject[];
  beforeAll(async () => {
    objects = parseManifest(await readFile(join(ROOT, 'deploy/aws-secrets-csi-provider.yaml'), 'utf8'));
    await apply(objects);
  });
  afterAll(() => remove(objects));

  it('is stored as rendered: the apiserver dropped no field', async () => {
    const ds = one<DaemonSet>(objects, 'DaemonSet');
    const { status, body } = await kubeCall('GET', objectPath(ds));
    expect(status).toBe(200);
    const stored = body as DaemonSet;
    const [c] = stored.spec.template.spec.containers;
    expect(c?.args).toEqual(ds.spec.template.spec.containers[0]?.args);
    expect(c?.securityContext).toEqual(ds.spec.template.spec.containers[0]?.securityContext);
    expect(stored.spec.template.spec.priorityClassName).toBe('system-node-critical');
  });

  it("the DaemonSet's pod passes pod admission (ServiceAccount, system-node-critical priority)", async () => {
    const pod = podOf(one<DaemonSet>(objects, 'DaemonSet'));
    try {
      await apply([pod]);
      const { body } = await kubeCall('GET', objectPath(pod));
      // The Priority admission plugin resolved the class to its value.
      expect((body as { spec: { priority: number } }).spec.priority).toBe(2_000_001_000);
    } finally {
      await kubeCall('DELETE', `${objectPath(pod)}?gracePeriodSeconds=0`);
    }
  });

  it("grants the provider's ServiceAccount get on serviceaccounts, pods and nodes, and nothing more", async () => {
    await expectAccess('kube-system', 'aws-secrets-csi-provider', [...ALWAYS_ALLOWED, ...REGION_LOOKUP], NEVER_ALLOWED);
  });
});

describe('helm install with custom values on the real kube-apiserver', () => {
  const namespace = `packaging-${randomBytes(3).toString('hex')}`;
  const release = 'custom';
  let objects: KubeObject[];
  beforeAll(async () => {
    const valuesFile = join(helm.chart, '..', 'cluster-values.yaml');
    // The test cluster holds the driver's CRDs already (the e2e driver's): the subchart would collide with them.
    await writeFile(valuesFile, JSON.stringify({ ...CUSTOM_VALUES, 'secrets-store-csi-driver': { install: false } }));
    const args = [release, helm.chart, '--namespace', namespace, '-f', valuesFile];
    // --validate: Helm takes the capabilities from the live apiserver and checks the objects against its schema.
    objects = parseManifest((await helm.run(['template', '--validate', ...args])).stdout);
    // Every object passes strict validation and admission before Helm creates them.
    await kubeCall('POST', '/api/v1/namespaces', { metadata: { name: namespace } });
    for (const o of objects) {
      const { status, body, warnings } = await serverSideApply(o, true);
      expect(status, `dry run of ${o.kind}/${o.metadata.name}: ${JSON.stringify(body)}`).toBeLessThan(300);
      expect(warnings).toEqual([]);
    }
    await helm.run(['install', ...args]);
  });
  afterAll(async () => {
    await helm.run(['uninstall', release, '--namespace', namespace]).catch(() => undefined);
    await kubeCall('DELETE', `/api/v1/namespaces/${namespace}`);
  });

  it('creates the DaemonSet with the custom flags, env and ServiceAccount', async () => {
    const { status, body } = await kubeCall('GET', `/apis/apps/v1/namespaces/${namespace}/daemonsets/custom-aws-secrets-csi-provider`);
    expect(status).toBe(200);
    const pod = (body as DaemonSet).spec.template.spec;
    expect(pod.serviceAccountName).toBe('custom-provider');
    expect(pod.containers[0]?.args).toContain('--pod-identity-http-timeout=250ms');
    expect(pod.containers[0]?.env).toEqual([
      { name: 'AWS_REGION', value: 'eu-west-1' },
      { name: 'AWS_USE_FIPS_ENDPOINT', value: 'true' },
    ]);
  });

  it('with awsRegion set, grants get on serviceaccounts only: no pods, no nodes', async () => {
    await expectAccess(namespace, 'custom-provider', ALWAYS_ALLOWED, [...REGION_LOOKUP, ...NEVER_ALLOWED]);
  });

  it('helm uninstall removes the cluster-wide RBAC', async () => {
    await helm.run(['uninstall', release, '--namespace', namespace]);
    const role = one(objects, 'ClusterRole');
    expect((await kubeCall('GET', objectPath(role))).status).toBe(404);
    expect(await serviceAccountMay(namespace, 'custom-provider', ALWAYS_ALLOWED[0] as AccessCheck)).toBe(false);
  });
});

describe('the ServiceMonitor variant on the real kube-apiserver', () => {
  it('is accepted except the ServiceMonitor itself, whose CRD this cluster lacks (asserted from the template)', async () => {
    const namespace = `packaging-${randomBytes(3).toString('hex')}`;
    await kubeCall('POST', '/api/v1/namespaces', { metadata: { name: namespace } });
    try {
      const { stdout } = await helm.run([
        'template', 'mon', helm.chart, '--namespace', namespace, '--set', 'metrics.serviceMonitor.enabled=true',
        // The driver's subchart is privileged, which this cluster's policy forbids; the provider's objects are asked.
        '--set', 'secrets-store-csi-driver.install=false', '--kube-version', await apiserverVersion(),
      ]);
      const objects = parseManifest(stdout).filter((o) => o.kind !== 'ServiceMonitor');
      expect(objects.map((o) => o.kind)).toContain('Service');
      for (const o of objects) {
        const { status, body, warnings } = await serverSideApply(o, true);
        expect(status, `dry run of ${o.kind}/${o.metadata.name}: ${JSON.stringify(body)}`).toBeLessThan(300);
        expect(warnings).toEqual([]);
      }
    } finally {
      await kubeCall('DELETE', `/api/v1/namespaces/${namespace}`);
    }
  });
});
