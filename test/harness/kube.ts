import {
  ApiException,
  CoreV1Api,
  KubeConfig,
  type V1Container,
  type V1Node,
  type V1Pod,
  type V1ServiceAccount,
  type V1Volume,
} from '@kubernetes/client-node';
import { usePeers } from './peers.js';

let config: KubeConfig | undefined;
let core: CoreV1Api | undefined;

/** The admin kubeconfig of the test apiserver (system:masters). */
export function kubeConfig(): KubeConfig {
  if (!config) {
    config = new KubeConfig();
    config.loadFromFile(usePeers().kube.kubeconfigPath);
  }
  return config;
}

export function coreV1(): CoreV1Api {
  return (core ??= kubeConfig().makeApiClient(CoreV1Api));
}

async function createOrKeep(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (err) {
    if (!(err instanceof ApiException && err.code === 409)) throw err;
  }
}

/**
 * Creates the namespace and its `default` ServiceAccount if missing. The controller-manager runs only its garbage
 * collector (not the serviceaccount controller), and the ServiceAccount admission plugin refuses pods whose service
 * account does not exist.
 */
export async function ensureNamespace(name: string): Promise<void> {
  await createOrKeep(() => coreV1().createNamespace({ body: { metadata: { name } } }));
  await createOrKeep(() =>
    coreV1().createNamespacedServiceAccount({ namespace: name, body: { metadata: { name: 'default' } } }),
  );
}

/** e.g. annotations `{ 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/app' }` */
export function createServiceAccount(
  namespace: string,
  name: string,
  annotations: Record<string, string> = {},
): Promise<V1ServiceAccount> {
  return coreV1().createNamespacedServiceAccount({ namespace, body: { metadata: { name, annotations } } });
}

export interface MintedToken {
  token: string;
  /** RFC 3339, as the CSI driver writes it into the tokens attribute. */
  expirationTimestamp: string;
}

/**
 * A TokenRequest for the service account, as the CSI driver makes for each audience of its tokenRequests; bound to
 * `pod` (it must exist) as kubelet binds the tokens it mints for a pod's volumes.
 */
export async function mintToken(
  namespace: string,
  serviceAccount: string,
  audience: string,
  expirationSeconds = 3600,
  pod?: { name: string; uid: string },
): Promise<MintedToken> {
  const boundObjectRef = pod && { apiVersion: 'v1', kind: 'Pod', name: pod.name, uid: pod.uid };
  const out = await coreV1().createNamespacedServiceAccountToken({
    namespace,
    name: serviceAccount,
    body: { spec: { audiences: [audience], expirationSeconds, ...(boundObjectRef && { boundObjectRef }) } },
  });
  const expires = out.status?.expirationTimestamp;
  if (!out.status?.token || !expires) throw new Error(`TokenRequest for ${namespace}/${serviceAccount} returned no token`);
  return { token: out.status.token, expirationTimestamp: new Date(expires).toISOString().replace(/\.\d+Z$/, 'Z') };
}

/** The `csi.storage.k8s.io/serviceAccount.tokens` attribute the driver would pass for these audiences. */
export async function serviceAccountTokens(
  namespace: string,
  serviceAccount: string,
  audiences: string[],
  pod?: { name: string; uid: string },
): Promise<string> {
  const entries = await Promise.all(
    audiences.map(async (audience) => [audience, await mintToken(namespace, serviceAccount, audience, 3600, pod)] as const),
  );
  return JSON.stringify(Object.fromEntries(entries));
}

/** e.g. labels `{ 'topology.kubernetes.io/region': 'eu-west-1' }` */
export function createNode(name: string, labels: Record<string, string> = {}): Promise<V1Node> {
  return coreV1().createNode({ body: { metadata: { name, labels } } });
}

export interface PodOptions {
  serviceAccountName?: string;
  nodeName?: string;
  labels?: Record<string, string>;
  volumes?: V1Volume[];
  /** Default: one pause container. Nothing runs it: with no kubelet, the pod stays Pending. */
  containers?: V1Container[];
}

export function createPod(namespace: string, name: string, opts: PodOptions = {}): Promise<V1Pod> {
  return coreV1().createNamespacedPod({
    namespace,
    body: {
      metadata: { name, labels: opts.labels },
      spec: {
        serviceAccountName: opts.serviceAccountName,
        nodeName: opts.nodeName,
        volumes: opts.volumes,
        containers: opts.containers ?? [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }],
      },
    },
  });
}
