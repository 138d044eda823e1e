import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseFlags } from '../../../src/config/flags.js';
import { imageEntrypoint } from '../../harness/imageCommand.js';
import { usePeers } from '../../harness/peers.js';
import {
  CHART_DIR,
  CUSTOM_VALUES,
  ROOT,
  container,
  driverChartDir,
  one,
  only,
  parseManifest,
  prepareHelm,
  type DaemonSet,
  type Helm,
  type KubeObject,
} from './support.js';

const run = promisify(execFile);
const peers = usePeers();

let helm: Helm;
let customValuesFile: string;

async function render(release: string, ...args: string[]): Promise<KubeObject[]> {
  const { stdout } = await helm.run(['template', release, helm.chart, '--namespace', 'secrets', '--kube-version', '1.30.0', ...args]);
  return parseManifest(stdout);
}

/** The provider's objects: the driver's subchart, installed by default, is left out (a later --set may add it). */
function template(release: string, ...args: string[]): Promise<KubeObject[]> {
  return render(release, '--set', 'secrets-store-csi-driver.install=false', ...args);
}

beforeAll(async () => {
  helm = await prepareHelm();
  customValuesFile = join(helm.chart, '..', 'custom-values.yaml');
  await writeFile(customValuesFile, JSON.stringify(CUSTOM_VALUES));
});
afterAll(() => helm?.cleanup());

describe('helm lint', () => {
  it('passes on the chart directory as committed, without the driver chart downloaded', async () => {
    // Helm only warns that the (disabled) dependency is not in charts/: the chart itself is clean.
    const { stdout } = await helm.run(['lint', CHART_DIR]);
    expect(stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    const findings = stdout.split('\n').filter((line) => /^\[(WARNING|ERROR)\]/.test(line));
    expect(findings).toEqual([expect.stringMatching(/missing these dependencies: secrets-store-csi-driver$/)]);
  });

  it('passes --strict with its dependency present, with default and with custom values', async () => {
    await helm.run(['lint', '--strict', helm.chart]);
    await helm.run(['lint', '--strict', helm.chart, '-f', customValuesFile]);
    await helm.run(['lint', '--strict', helm.chart, '--set', 'secrets-store-csi-driver.install=true']);
  });
});

describe('helm template with default values', () => {
  let objects: KubeObject[];
  beforeAll(async () => {
    objects = await template('aws-secrets-csi-provider');
  });

  it('renders a ServiceAccount, a ClusterRole and its binding, and the DaemonSet (the driver left out)', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ClusterRole/aws-secrets-csi-provider',
      'ClusterRoleBinding/aws-secrets-csi-provider',
      'DaemonSet/aws-secrets-csi-provider',
      'ServiceAccount/aws-secrets-csi-provider',
    ]);
    for (const o of objects.filter((o) => !o.kind.startsWith('Cluster'))) expect(o.metadata.namespace).toBe('secrets');
  });

  it('runs the provider with its defaults, which the provider accepts', () => {
    const c = container(objects);
    expect(c.args).toEqual([
      '--provider-volume=/var/run/secrets-store-csi-providers',
      '--qps=5',
      '--burst=10',
      '--log-level=info',
      '--mount-timeout=60s',
      '--shutdown-grace=20s',
      '--metrics-addr=:8989',
    ]);
    const flags = parseFlags(c.args);
    expect(flags).toMatchObject({ qps: 5, burst: 10, shutdownGraceMs: 20_000, mountTimeoutMs: 60_000, driverWritesSecrets: false });
    expect(flags.metricsAddr).toEqual({ host: '0.0.0.0', port: 8989 });
    expect(c.env).toBeUndefined();
    // The image's entrypoint, with its own node options.
    expect(c.command).toBeUndefined();
  });

  it('tags the image with the chart appVersion, which is the package version', async () => {
    const chart = parse(await readFile(join(CHART_DIR, 'Chart.yaml'), 'utf8')) as { appVersion: string };
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(chart.appVersion).toBe(pkg.version);
    expect(container(objects).image).toBe(`registry.example.com/aws-secrets-csi-provider:${pkg.version}`);
  });

  it('probes /healthz and /readyz on the metrics port the provider listens on', () => {
    const c = container(objects);
    expect(c.ports).toEqual([{ name: 'metrics', containerPort: 8989, protocol: 'TCP' }]);
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
  });

  it('is restricted: no capabilities, read-only root, RuntimeDefault seccomp, no escalation, no host network', () => {
    const c = container(objects);
    expect(c.securityContext).toEqual({
      runAsUser: 0,
      runAsGroup: 0,
      runAsNonRoot: false,
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    const pod = one<DaemonSet>(objects, 'DaemonSet').spec.template.spec;
    expect(pod.hostNetwork).toBe(false);
  });

  it('mounts only the provider directory from the host: never the kubelet directory with the pods\' volumes', () => {
    const pod = one<DaemonSet>(objects, 'DaemonSet').spec.template.spec;
    expect(pod.volumes).toEqual([
      { name: 'providervol', hostPath: { path: '/var/run/secrets-store-csi-providers', type: 'DirectoryOrCreate' } },
    ]);
    expect(container(objects).volumeMounts).toEqual([{ name: 'providervol', mountPath: '/var/run/secrets-store-csi-providers' }]);
  });

  it('runs on every Linux node except Fargate, tainted or not, as system-node-critical', () => {
    const pod = one<DaemonSet>(objects, 'DaemonSet').spec.template.spec;
    expect(pod.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(pod.tolerations).toEqual([{ operator: 'Exists' }]);
    expect(pod.priorityClassName).toBe('system-node-critical');
    expect(pod.affinity).toEqual({
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            {
              matchExpressions: [
                { key: 'eks.amazonaws.com/compute-type', operator: 'NotIn', values: ['fargate'] },
                { key: 'kubernetes.io/os', operator: 'In', values: ['linux'] },
              ],
            },
          ],
        },
      },
    });
  });

  it('gives the provider longer to stop than its --shutdown-grace', () => {
    const pod = one<DaemonSet>(objects, 'DaemonSet').spec.template.spec;
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(parseFlags(container(objects).args).shutdownGraceMs);
  });

  it("grants get on serviceaccounts, pods, nodes and the issuer's discovery documents, and nothing else", () => {
    expect(one(objects, 'ClusterRole').rules).toEqual([
      { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get'] },
      { apiGroups: [''], resources: ['pods', 'nodes'], verbs: ['get'] },
      { nonResourceURLs: ['/.well-known/openid-configuration', '/openid/v1/jwks'], verbs: ['get'] },
    ]);
  });
});

describe('helm template with custom values', () => {
  let objects: KubeObject[];
  beforeAll(async () => {
    objects = await template('custom', '-f', customValuesFile);
  });

  it('passes every flag value through, and the provider parses them', () => {
    const c = container(objects);
    const flags = parseFlags(c.args);
    expect(flags).toMatchObject({
      providerVolume: '/etc/kubernetes/secrets-store-csi-providers',
      driverWritesSecrets: true,
      qps: 20,
      burst: 40,
      podIdentityHttpTimeoutMs: 250,
      eksAddonVersion: 'v1.2.3-eksbuild.1',
      logLevel: 'debug',
      mountTimeoutMs: 45_000,
      shutdownGraceMs: 40_000,
      fetchConcurrency: 32,
      metricsAddr: { host: '0.0.0.0', port: 9090 },
    });
    expect(c.env).toEqual([
      { name: 'AWS_REGION', value: 'eu-west-1' },
      { name: 'AWS_USE_FIPS_ENDPOINT', value: 'true' },
    ]);
    expect(c.ports).toEqual([{ name: 'metrics', containerPort: 9090, protocol: 'TCP' }]);
    expect(c.image).toBe('127.0.0.1:5000/team/provider:9.9.9');
  });

  it('applies the pod-level values', () => {
    const ds = one<DaemonSet>(objects, 'DaemonSet');
    const pod = ds.spec.template.spec;
    expect(pod.serviceAccountName).toBe('custom-provider');
    expect(pod.priorityClassName).toBe('system-cluster-critical');
    expect(pod.terminationGracePeriodSeconds).toBe(60);
    expect(pod.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux', 'node-role': 'workers' });
    expect(pod.tolerations).toEqual(CUSTOM_VALUES.tolerations);
    expect(pod.affinity).toBeUndefined();
    expect(pod.dnsConfig).toEqual(CUSTOM_VALUES.dnsConfig);
    expect(pod.imagePullSecrets).toEqual([{ name: 'regcred' }]);
    expect(pod.volumes[0]?.hostPath?.path).toBe('/etc/kubernetes/secrets-store-csi-providers');
    expect(ds.spec.updateStrategy).toEqual(CUSTOM_VALUES.updateStrategy);
    expect(ds.spec.template.metadata.labels).toMatchObject({ tier: 'node', team: 'platform' });
    expect(ds.spec.template.metadata.annotations).toEqual({ 'example.com/scrape': 'true' });
    for (const o of objects) expect(o.metadata.labels).toMatchObject({ team: 'platform' });
    // A securityContext value merges into the defaults: only the user changes.
    expect(container(objects).securityContext).toMatchObject({
      runAsUser: 65532,
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
  });

  it("with awsRegion, grants get on serviceaccounts and the issuer's discovery documents only", () => {
    expect(one(objects, 'ClusterRole').rules).toEqual([
      { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get'] },
      { nonResourceURLs: ['/.well-known/openid-configuration', '/openid/v1/jwks'], verbs: ['get'] },
    ]);
    expect(one(objects, 'ClusterRoleBinding').subjects).toEqual([
      { kind: 'ServiceAccount', name: 'custom-provider', namespace: 'secrets' },
    ]);
  });

  it('with rbac.install=false, renders no ServiceAccount and no RBAC, and uses the named ServiceAccount', async () => {
    const bare = await template('bare', '--set', 'rbac.install=false', '--set', 'rbac.serviceAccountName=mine');
    expect(bare.map((o) => o.kind)).toEqual(['DaemonSet']);
    expect(one<DaemonSet>(bare, 'DaemonSet').spec.template.spec.serviceAccountName).toBe('mine');
  });

  it("with nodeOptions, runs the image's node and script with those options in place of the image's", async () => {
    const options = ['--max-semi-space-size=8'];
    const c = container(await template('opts', '--set-json', `nodeOptions=${JSON.stringify(options)}`));
    const entrypoint = imageEntrypoint();
    expect(entrypoint.args).toEqual([]);
    expect(c.command).toEqual([entrypoint.node, ...options, entrypoint.script]);
    expect(parseFlags(c.args).providerVolume).toBe('/var/run/secrets-store-csi-providers');
  });

  it('with hostNetwork, env and envFrom, runs in the node\'s network with that environment after AWS_REGION', async () => {
    const env = [{ name: 'HTTPS_PROXY', value: 'http://127.0.0.1:3128' }, { name: 'NO_PROXY', value: '169.254.170.23' }];
    const envFrom = [{ configMapRef: { name: 'provider-proxy' } }];
    const objects = await template('hostnet', '--set', 'hostNetwork=true', '--set', 'awsRegion=eu-west-1',
      '--set-json', `env=${JSON.stringify(env)}`, '--set-json', `envFrom=${JSON.stringify(envFrom)}`);
    expect(one<DaemonSet>(objects, 'DaemonSet').spec.template.spec.hostNetwork).toBe(true);
    const c = container(objects) as ReturnType<typeof container> & { envFrom?: unknown };
    expect(c.env).toEqual([{ name: 'AWS_REGION', value: 'eu-west-1' }, ...env]);
    expect(c.envFrom).toEqual(envFrom);
    // The probes name the port, so they follow the pod to the node's address.
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
  });

  it('pins the image by digest when one is given', async () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const pinned = await template('pinned', '--set', `image.digest=${digest}`);
    expect(container(pinned).image).toBe(`registry.example.com/aws-secrets-csi-provider@${digest}`);
  });

  it('refuses a terminationGracePeriodSeconds that does not exceed shutdownGraceSeconds', async () => {
    await expect(template('short', '--set', 'shutdownGraceSeconds=30', '--set', 'terminationGracePeriodSeconds=30')).rejects.toThrow(
      /terminationGracePeriodSeconds must exceed shutdownGraceSeconds/,
    );
  });
});

describe('metrics.serviceMonitor', () => {
  it('renders a ServiceMonitor scraping /metrics through a headless Service that selects the provider pods', async () => {
    const objects = await template('mon', '--set', 'metrics.serviceMonitor.enabled=true', '--set', 'metrics.serviceMonitor.labels.release=prom');
    const ds = one<DaemonSet>(objects, 'DaemonSet');
    const service = one(objects, 'Service') as KubeObject & {
      spec: { clusterIP: string; selector: Record<string, string>; ports: { name: string; port: number; targetPort: string }[] };
    };
    expect(service.spec.clusterIP).toBe('None');
    expect(service.spec.selector).toEqual(ds.spec.selector.matchLabels);
    expect(ds.spec.template.metadata.labels).toMatchObject(service.spec.selector);
    expect(service.spec.ports).toEqual([{ name: 'metrics', port: 8989, targetPort: 'metrics', protocol: 'TCP' }]);

    const monitor = one(objects, 'ServiceMonitor') as KubeObject & {
      spec: { selector: { matchLabels: Record<string, string> }; namespaceSelector: unknown; endpoints: unknown[] };
    };
    expect(monitor.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(monitor.metadata.labels).toMatchObject({ release: 'prom' });
    expect(service.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
    expect(monitor.spec.namespaceSelector).toEqual({ matchNames: ['secrets'] });
    expect(monitor.spec.endpoints).toEqual([{ port: 'metrics', path: '/metrics', interval: '30s', scrapeTimeout: '10s' }]);
  });

  it('renders neither by default', async () => {
    const objects = await template('nomon');
    expect(only(objects, 'ServiceMonitor')).toEqual([]);
    expect(only(objects, 'Service')).toEqual([]);
  });
});

describe('the secrets-store-csi-driver dependency', () => {
  it('is the upstream chart the tests run, pinned in Chart.yaml', async () => {
    const chart = parse(await readFile(join(CHART_DIR, 'Chart.yaml'), 'utf8')) as {
      dependencies: { name: string; version: string; repository: string; condition: string }[];
    };
    const driver = parse(await readFile(join(await driverChartDir(), 'Chart.yaml'), 'utf8')) as { version: string };
    expect(chart.dependencies).toEqual([
      {
        name: 'secrets-store-csi-driver',
        repository: 'https://kubernetes-sigs.github.io/secrets-store-csi-driver/charts',
        version: driver.version,
        condition: 'secrets-store-csi-driver.install',
      },
    ]);
  });

  it('is installed by default, as by ASCP\'s chart: requests both tokens, rotates, and watches the directory of our socket', async () => {
    const objects = await render('full');
    const csiDriver = one(objects, 'CSIDriver') as KubeObject & {
      spec: { tokenRequests: { audience: string }[]; requiresRepublish: boolean };
    };
    expect(csiDriver.spec.tokenRequests).toEqual([{ audience: 'sts.amazonaws.com' }, { audience: 'pods.eks.amazonaws.com' }]);
    expect(csiDriver.spec.requiresRepublish).toBe(true);

    const driverSet = only(objects, 'DaemonSet').find((o) => o.metadata.name !== 'full-aws-secrets-csi-provider') as DaemonSet;
    const driverArgs = driverSet.spec.template.spec.containers.flatMap((c) => c.args ?? []);
    expect(driverArgs).toContain('--provider-volume=/var/run/secrets-store-csi-providers');
    expect(driverArgs).toContain('--enable-secret-rotation=true');
    expect(driverArgs).not.toContain('--sync-secret=true');
    expect(parseFlags(container(only(objects, 'DaemonSet').filter((o) => o !== driverSet)).args).providerVolume).toBe(
      '/var/run/secrets-store-csi-providers',
    );
  });
});

describe('chart README', () => {
  /** Maps whose keys the user chooses (labels, a securityContext, ...) are one value; others are walked. */
  const FREE_FORM = new Set([
    'commonLabels', 'imagePullSecrets', 'extraArgs', 'livenessProbe', 'readinessProbe',
    'resources', 'securityContext', 'podLabels', 'podAnnotations', 'nodeSelector', 'tolerations', 'affinity',
    'updateStrategy', 'dnsConfig', 'labels', 'tokenRequests',
  ]);
  function keys(values: Record<string, unknown>, prefix = ''): string[] {
    return Object.entries(values).flatMap(([key, value]) => {
      const path = `${prefix}${key}`;
      const walk = value !== null && typeof value === 'object' && !Array.isArray(value) && !FREE_FORM.has(key);
      return walk ? keys(value as Record<string, unknown>, `${path}.`) : [path];
    });
  }

  it('documents every key of values.yaml in its table, and no other', async () => {
    const values = parse(await readFile(join(CHART_DIR, 'values.yaml'), 'utf8')) as Record<string, unknown>;
    const readme = await readFile(join(CHART_DIR, 'README.md'), 'utf8');
    const documented = [...readme.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(keys(values).sort());
  });
});

describe('deploy/aws-secrets-csi-provider.yaml', () => {
  it('is the chart rendered with its default values, the driver left out, into kube-system (npm run render-deploy)', async () => {
    const { stdout } = await run('bash', [join(ROOT, 'scripts/render-deploy.sh'), '--stdout'], {
      env: { ...process.env, HELM: peers.binaries.helm, DRIVER_CHART: await driverChartDir(), HOME: join(helm.chart, '..') },
      maxBuffer: 16 * 1024 * 1024,
    });
    const committed = await readFile(join(ROOT, 'deploy/aws-secrets-csi-provider.yaml'), 'utf8');
    expect(committed, 'deploy/aws-secrets-csi-provider.yaml is stale: run npm run render-deploy').toBe(stdout);
    const objects = parseManifest(committed);
    for (const o of objects.filter((o) => !o.kind.startsWith('Cluster'))) expect(o.metadata.namespace).toBe('kube-system');
  });
});
