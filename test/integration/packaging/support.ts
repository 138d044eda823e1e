import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { parseAllDocuments } from 'yaml';
import { driverChartDir as helmDriverChartDir, prepareHelm as prepareHelmWith, type Helm } from '../../harness/helm.js';
import { usePeers } from '../../harness/peers.js';

/** Values that change every key the DaemonSet and the ClusterRole read, as an ASCP user might set them. */
export const CUSTOM_VALUES = {
  image: { repository: '127.0.0.1:5000/team/provider', tag: '9.9.9', pullPolicy: 'Always' },
  imagePullSecrets: [{ name: 'regcred' }],
  awsRegion: 'eu-west-1',
  useFipsEndpoint: true,
  providerVolume: '/etc/kubernetes/secrets-store-csi-providers',
  driverWritesSecrets: true,
  podIdentityHttpTimeout: '250ms',
  eksAddonVersion: 'v1.2.3-eksbuild.1',
  k8sThrottlingParams: { qps: 20, burst: 40 },
  logLevel: 'debug',
  mountTimeout: '45s',
  shutdownGraceSeconds: 40,
  terminationGracePeriodSeconds: 60,
  extraArgs: ['--fetch-concurrency=32'],
  port: 9090,
  commonLabels: { team: 'platform' },
  podLabels: { tier: 'node' },
  podAnnotations: { 'example.com/scrape': 'true' },
  priorityClassName: 'system-cluster-critical',
  nodeSelector: { 'node-role': 'workers' },
  tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'secrets', effect: 'NoSchedule' }],
  affinity: null,
  updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '10%' } },
  dnsPolicy: 'ClusterFirst',
  dnsConfig: { options: [{ name: 'ndots', value: '2' }] },
  resources: { requests: { cpu: '100m', memory: '200Mi' }, limits: { memory: '400Mi' } },
  securityContext: { runAsUser: 65532, runAsGroup: 65532, runAsNonRoot: true },
  rbac: { serviceAccountName: 'custom-provider' },
};

export const ROOT = new URL('../../../', import.meta.url).pathname;
export { CHART_DIR, type Helm } from '../../harness/helm.js';
const peers = usePeers();

/** The driver's upstream chart, from the driver's source the peers installer keeps (the version it builds). */
export function driverChartDir(): Promise<string> {
  return helmDriverChartDir(peers.gomodcache);
}

export function prepareHelm(): Promise<Helm> {
  return prepareHelmWith({ helm: peers.binaries.helm, kubeconfigPath: peers.kube.kubeconfigPath, gomodcache: peers.gomodcache });
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export function parseManifest(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length) throw doc.errors[0];
      return doc.toJS() as KubeObject | null;
    })
    .filter((o): o is KubeObject => o !== null);
}

export function only(objects: KubeObject[], kind: string): KubeObject[] {
  return objects.filter((o) => o.kind === kind);
}

export function one<T = KubeObject>(objects: KubeObject[], kind: string): T {
  const found = only(objects, kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0] as T;
}

/** The parts of a rendered DaemonSet the tests read. */
export interface DaemonSet extends KubeObject {
  spec: {
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
      spec: PodSpec;
    };
    updateStrategy: unknown;
  };
}

export interface PodSpec {
  serviceAccountName: string;
  priorityClassName?: string;
  terminationGracePeriodSeconds: number;
  dnsPolicy: string;
  dnsConfig?: unknown;
  imagePullSecrets?: { name: string }[];
  nodeSelector: Record<string, string>;
  tolerations?: unknown[];
  affinity?: unknown;
  hostNetwork: boolean;
  volumes: { name: string; hostPath?: { path: string; type?: string } }[];
  containers: Container[];
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args: string[];
  env?: { name: string; value: string }[];
  ports: { name: string; containerPort: number }[];
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  securityContext: Record<string, unknown>;
  volumeMounts: { name: string; mountPath: string }[];
}

export function container(objects: KubeObject[]): Container {
  const pod = one<DaemonSet>(objects, 'DaemonSet').spec.template.spec;
  if (pod.containers.length !== 1) throw new Error(`expected one container, found ${pod.containers.length}`);
  return pod.containers[0] as Container;
}

/** Where each kind the chart renders lives in the API (plural resource, namespaced or not). */
const RESOURCES: Record<string, { base: string; plural: string; namespaced: boolean }> = {
  ServiceAccount: { base: '/api/v1', plural: 'serviceaccounts', namespaced: true },
  Service: { base: '/api/v1', plural: 'services', namespaced: true },
  Pod: { base: '/api/v1', plural: 'pods', namespaced: true },
  Namespace: { base: '/api/v1', plural: 'namespaces', namespaced: false },
  DaemonSet: { base: '/apis/apps/v1', plural: 'daemonsets', namespaced: true },
  ClusterRole: { base: '/apis/rbac.authorization.k8s.io/v1', plural: 'clusterroles', namespaced: false },
  ClusterRoleBinding: { base: '/apis/rbac.authorization.k8s.io/v1', plural: 'clusterrolebindings', namespaced: false },
};

export function objectPath(o: Pick<KubeObject, 'kind' | 'metadata'>): string {
  const resource = RESOURCES[o.kind];
  if (!resource) throw new Error(`no API path known for kind ${o.kind}`);
  const ns = resource.namespaced ? `/namespaces/${o.metadata.namespace ?? 'default'}` : '';
  return `${resource.base}${ns}/${resource.plural}/${o.metadata.name}`;
}

export interface KubeResponse {
  status: number;
  body: unknown;
  warnings: string[];
}

/** One call to the test apiserver as its admin, with the cluster CA; JSON in, JSON out. */
export async function kubeCall(
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<KubeResponse> {
  const ca = await readFile(peers.kube.caFile);
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, peers.kube.server),
      {
        method,
        ca,
        headers: { authorization: `Bearer ${peers.kube.token}`, 'content-type': contentType, accept: 'application/json' },
        timeout: 10_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.once('end', () => {
          const warning = res.headers.warning;
          resolve({
            status: res.statusCode ?? 0,
            body: text ? (JSON.parse(text) as unknown) : undefined,
            warnings: warning === undefined ? [] : [warning].flat(),
          });
        });
        res.once('error', reject);
      },
    );
    req.once('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.once('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/**
 * Server-side apply (`kubectl apply --server-side`) with strict field validation: an unknown or misplaced field
 * is an error, not a silently dropped line. `dryRun` runs every admission and validation step without storing.
 */
export async function serverSideApply(o: KubeObject, dryRun: boolean): Promise<KubeResponse> {
  const query = `fieldManager=packaging-test&fieldValidation=Strict&force=true${dryRun ? '&dryRun=All' : ''}`;
  return kubeCall('PATCH', `${objectPath(o)}?${query}`, o, 'application/apply-patch+yaml');
}

export interface AccessCheck {
  verb: string;
  resource: string;
  subresource?: string;
  namespace?: string;
}

/** SubjectAccessReview: may this ServiceAccount do that, as the apiserver's RBAC authorizer decides? */
export async function serviceAccountMay(namespace: string, name: string, check: AccessCheck): Promise<boolean> {
  const { status, body } = await kubeCall('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: {
      user: `system:serviceaccount:${namespace}:${name}`,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
      resourceAttributes: { group: '', ...check },
    },
  });
  if (status !== 201) throw new Error(`SubjectAccessReview answered HTTP ${status}: ${JSON.stringify(body)}`);
  return (body as { status: { allowed: boolean } }).status.allowed;
}
