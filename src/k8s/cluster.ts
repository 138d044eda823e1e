import { LRUCache } from 'lru-cache';
import { ProviderError } from '../errors.js';
import type { CoreApi } from './coreApi.js';

export const ROLE_ARN_ANNOTATION = 'eks.amazonaws.com/role-arn';
export const REGION_LABEL = 'topology.kubernetes.io/region';

/** What the provider reads from the API server: two lookups, both cached, both `get` only. */
export interface ClusterReader {
  /** The IAM role annotated on a ServiceAccount, or undefined when it has none. */
  serviceAccountRoleArn(namespace: string, serviceAccount: string): Promise<string | undefined>;
  /** The region label of the node a pod runs on, or undefined when the node has none. */
  podNodeRegion(namespace: string, pod: string, uid: string): Promise<string | undefined>;
}

export interface ClusterReaderOptions {
  /** How long a ServiceAccount's annotation is trusted; short, so a changed role takes effect soon. */
  serviceAccountTtlMs: number;
  maxEntries: number;
  /** Wraps every API call, made for a pod of `namespace`: where the QPS/burst limit plugs in. */
  throttle?: <T>(call: () => Promise<T>, namespace: string) => Promise<T>;
  /** Told of every API call and cache lookup: where the metrics plug in. */
  onCall?: (resource: KubeResource, outcome: 'ok' | 'error') => void;
  onCacheLookup?: (cache: 'serviceaccount' | 'pod' | 'node', result: 'hit' | 'miss') => void;
}

export type KubeResource = 'serviceaccounts' | 'pods' | 'nodes';

/**
 * @kubernetes/client-node's KubeConfig still costs about 0.1 s and 14 MB to load bundled (its authenticators, YAML and
 * proxy agents, and the built-in modules they need), so it is imported on first use, after the socket is already
 * serving: start-up is not made to wait for it.
 */
export async function loadCoreApi(kubeconfigPath?: string): Promise<CoreApi> {
  const { connectCoreApi } = await import('./coreApi.js');
  return connectCoreApi(kubeconfigPath);
}

export class KubeClusterReader implements ClusterReader {
  private api: Promise<CoreApi> | undefined;
  private readonly roles: LRUCache<string, { roleArn: string | undefined }>;
  // A node's region never changes while it exists, so it is kept for as long as it stays in the LRU.
  private readonly nodeRegions: LRUCache<string, { region: string | undefined }, string>;
  /**
   * A pod never moves to another node: its node is kept by namespace, name and uid (a pod recreated under the same
   * name is another pod), so a pod's rotations and a Deployment's storm do not each cost a GET.
   */
  private readonly podNodes: LRUCache<string, { nodeName: string }>;
  private readonly throttle: <T>(call: () => Promise<T>, namespace: string) => Promise<T>;
  private readonly options: ClusterReaderOptions;

  constructor(
    private readonly loadApi: () => Promise<CoreApi>,
    options: ClusterReaderOptions,
  ) {
    this.throttle = options.throttle ?? ((call) => call());
    this.options = options;
    // fetch() coalesces concurrent lookups of one key: a mount storm of a Deployment costs one GET.
    this.roles = new LRUCache({
      max: options.maxEntries,
      ttl: options.serviceAccountTtlMs,
      fetchMethod: async (key) => {
        const [namespace, name] = splitKey(key);
        const account = await this.call('serviceaccounts', `get serviceaccount ${namespace}/${name}`, namespace, () =>
          this.coreApi().then((api) => api.readNamespacedServiceAccount({ namespace, name })),
        );
        return { roleArn: account.metadata?.annotations?.[ROLE_ARN_ANNOTATION] };
      },
    });
    // The context is the namespace of the pod that asked: its turn at the API limit is that namespace's.
    this.nodeRegions = new LRUCache({
      max: options.maxEntries,
      fetchMethod: async (nodeName, _stale, { context }) => {
        const node = await this.call('nodes', `get node ${nodeName}`, context, () =>
          this.coreApi().then((api) => api.readNode({ name: nodeName })),
        );
        return { region: node.metadata?.labels?.[REGION_LABEL] };
      },
    });
    this.podNodes = new LRUCache({
      max: options.maxEntries,
      fetchMethod: async (key) => {
        const [namespace, name] = JSON.parse(key) as [string, string];
        const pod = await this.call('pods', `get pod ${namespace}/${name}`, namespace, () =>
          this.coreApi().then((api) => api.readNamespacedPod({ namespace, name })),
        );
        // A pod not yet on a node is not cached: it will be.
        const nodeName = pod.spec?.nodeName;
        return nodeName ? { nodeName } : undefined;
      },
    });
  }

  async serviceAccountRoleArn(namespace: string, serviceAccount: string): Promise<string | undefined> {
    const status: LRUCache.Status<string, { roleArn: string | undefined }> = {};
    const entry = await this.roles.fetch(joinKey(namespace, serviceAccount), { status });
    this.options.onCacheLookup?.('serviceaccount', status.fetch === 'hit' ? 'hit' : 'miss');
    return entry?.roleArn;
  }

  async podNodeRegion(namespace: string, pod: string, uid: string): Promise<string | undefined> {
    const podStatus: LRUCache.Status<string, { nodeName: string }> = {};
    const placed = await this.podNodes.fetch(JSON.stringify([namespace, pod, uid]), { status: podStatus });
    this.options.onCacheLookup?.('pod', podStatus.fetch === 'hit' ? 'hit' : 'miss');
    if (!placed) return undefined;
    const status: LRUCache.Status<string, { region: string | undefined }> = {};
    const entry = await this.nodeRegions.fetch(placed.nodeName, { status, context: namespace });
    this.options.onCacheLookup?.('node', status.fetch === 'hit' ? 'hit' : 'miss');
    return entry?.region;
  }

  /**
   * Loads the client and reads the apiserver's /version, so that the first Mount finds the client's code run once and
   * a TLS connection open (kept for IDLE_CONNECTION_MS), and a broken kubeconfig or an unreachable apiserver shows
   * in the log at once. Resolves with the apiserver's version. Not a lookup: no metric, no cache.
   */
  async warmUp(): Promise<string> {
    const api = await this.coreApi();
    try {
      return (await this.throttle(() => api.getCode(), '')).gitVersion;
    } catch (err) {
      const code = httpStatusOf(err);
      const reason = code === undefined ? (err instanceof Error ? err.message : String(err)) : `HTTP ${code}`;
      throw new Error(`GET /version: ${reason}`, { cause: err });
    }
  }

  private coreApi(): Promise<CoreApi> {
    this.api ??= this.loadApi().catch((err: unknown) => {
      this.api = undefined;
      throw err;
    });
    return this.api;
  }

  private async call<T>(resource: KubeResource, what: string, namespace: string, request: () => Promise<T>): Promise<T> {
    try {
      const result = await this.throttle(request, namespace);
      this.options.onCall?.(resource, 'ok');
      return result;
    } catch (err) {
      this.options.onCall?.(resource, 'error');
      throw kubeError(what, err);
    }
  }
}

function joinKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

function splitKey(key: string): [string, string] {
  const slash = key.indexOf('/');
  return [key.slice(0, slash), key.slice(slash + 1)];
}

/** client-node's ApiException carries the HTTP status as a numeric `code`; network errors carry string codes. */
export function httpStatusOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

function kubeError(what: string, err: unknown): ProviderError {
  const code = httpStatusOf(err);
  if (code !== undefined) {
    if (code === 404) {
      return new ProviderError('KubernetesNotFound', `Kubernetes API: ${what}: not found`, { cause: err });
    }
    if (code === 401 || code === 403) {
      return new ProviderError(
        'KubernetesAccessDenied',
        `Kubernetes API refused to ${what} (HTTP ${code}): the provider's ClusterRole must allow "get" on ` +
          `serviceaccounts (and on pods and nodes when no region is configured)`,
        { cause: err },
      );
    }
    return new ProviderError(
      'KubernetesUnavailable',
      `Kubernetes API failed to ${what} (HTTP ${code})`,
      { cause: err },
    );
  }
  const reason = err instanceof Error ? err.message : String(err);
  return new ProviderError(
    'KubernetesUnavailable',
    `cannot reach the Kubernetes API to ${what}: ${reason}`,
    { cause: err },
  );
}
