import { ApiException, CustomObjectsApi, type V1OwnerReference } from '@kubernetes/client-node';
import { kubeConfig } from '../kube.js';

const GROUP = 'secrets-store.csi.x-k8s.io';
const VERSION = 'v1';

let api: CustomObjectsApi | undefined;
function customObjects(): CustomObjectsApi {
  return (api ??= kubeConfig().makeApiClient(CustomObjectsApi));
}

export interface SecretObjectSpec {
  secretName: string;
  type: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  data: { objectName: string; key: string }[];
}

export interface SecretProviderClassSpec {
  provider?: string;
  parameters: Record<string, string>;
  secretObjects?: SecretObjectSpec[];
}

export async function createSecretProviderClass(
  namespace: string,
  name: string,
  spec: SecretProviderClassSpec,
): Promise<void> {
  await customObjects().createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: 'secretproviderclasses',
    body: {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'SecretProviderClass',
      metadata: { name, namespace },
      spec: { provider: 'aws', ...spec },
    },
  });
}

export interface SecretProviderClassPodStatus {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    resourceVersion: string;
    labels?: Record<string, string>;
    ownerReferences?: V1OwnerReference[];
  };
  status: {
    podName: string;
    secretProviderClassName: string;
    mounted: boolean;
    targetPath: string;
    objects?: { id: string; version: string }[];
  };
}

/** The driver names it <pod>-<namespace>-<class>. */
export function podStatusName(pod: string, namespace: string, spc: string): string {
  return `${pod}-${namespace}-${spc}`;
}

export async function readPodStatus(namespace: string, name: string): Promise<SecretProviderClassPodStatus | undefined> {
  try {
    return (await customObjects().getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: 'secretproviderclasspodstatuses',
      name,
    })) as SecretProviderClassPodStatus;
  } catch (err) {
    if (err instanceof ApiException && err.code === 404) return undefined;
    throw err;
  }
}
