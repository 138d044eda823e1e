import https from 'node:https';
import { isDeepStrictEqual } from 'node:util';
import type { V1Node, V1Pod, V1ServiceAccount, VersionInfo } from '@kubernetes/client-node';
// client-node's modules one by one: its index re-exports every part of the client (exec, attach, port-forward, the
// model serializer...), and the bundle would keep them all.
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { ApiException } from '@kubernetes/client-node/dist/gen/apis/exception.js';
import { HttpMethod, type RequestContext } from '@kubernetes/client-node/dist/gen/http/http.js';
import { IsomorphicFetchHttpLibrary } from '@kubernetes/client-node/dist/gen/http/isomorphic-fetch.js';
import { ServerConfiguration } from '@kubernetes/client-node/dist/gen/servers.js';

/**
 * We close an idle connection ourselves after this long: well before the apiserver's own idle timeout (90 s), so that
 * a request never goes out on a connection the server is closing at that moment.
 */
const IDLE_CONNECTION_MS = 60_000;

/** The reads the provider makes, with the names and arguments of client-node's CoreV1Api and VersionApi. */
export interface CoreApi {
  readNamespacedServiceAccount(args: { namespace: string; name: string }): Promise<V1ServiceAccount>;
  readNamespacedPod(args: { namespace: string; name: string }): Promise<V1Pod>;
  readNode(args: { name: string }): Promise<V1Node>;
  /** The apiserver's /version, which every client may read (system:public-info-viewer). */
  getCode(): Promise<VersionInfo>;
  /** The service account issuer's OIDC discovery document, `/.well-known/openid-configuration`. */
  readOpenIdConfiguration(): Promise<unknown>;
  /** The service account issuer's public keys, `/openid/v1/jwks` (a JWK set). */
  readOpenIdKeys(): Promise<unknown>;
}

/**
 * The reads of `--kubeconfig`, else $KUBECONFIG, ~/.kube/config or the in-cluster service account.
 * Its own module so that it is the one dynamically imported: the bundler then splits @kubernetes/client-node into a
 * chunk loaded on first use, and keeps only the parts these imports reach.
 *
 * client-node's KubeConfig authenticates each request and its HTTP library sends it, as CoreV1Api would; CoreV1Api
 * itself is not used. Its request factory, its observable wrappers and the serializer of every Kubernetes model
 * (~1.3 MB of the 1.8 MB client) are code for hundreds of operations, run at load and kept in memory for the process's
 * life, to make a few GETs. The provider reads a few fields of their answers, which JSON has as the models do.
 */
export function connectCoreApi(kubeconfigPath?: string): CoreApi {
  const config = new KubeConfig();
  if (kubeconfigPath) config.loadFromFile(kubeconfigPath);
  else config.loadFromDefault();
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new Error('No active cluster!');
  const server = new ServerConfiguration(cluster.server, {});
  const http = new IsomorphicFetchHttpLibrary();
  const keepAlive = keepAliveAgent();

  async function get<T>(path: string, accept = 'application/json'): Promise<T> {
    const request = server.makeRequestContext(path, HttpMethod.GET);
    request.setHeaderParam('Accept', accept);
    await config.applySecurityAuthentication(request);
    keepAlive(request);
    const response = await http.send(request).toPromise();
    if (response.httpStatusCode >= 200 && response.httpStatusCode <= 299) {
      return JSON.parse(await response.body.text()) as T;
    }
    throw new ApiException(response.httpStatusCode, 'GET ' + path, await response.getBodyAsAny(), response.headers);
  }

  const segment = encodeURIComponent;
  return {
    readNamespacedServiceAccount: ({ namespace, name }) =>
      get(`/api/v1/namespaces/${segment(namespace)}/serviceaccounts/${segment(name)}`),
    readNamespacedPod: ({ namespace, name }) => get(`/api/v1/namespaces/${segment(namespace)}/pods/${segment(name)}`),
    readNode: ({ name }) => get(`/api/v1/nodes/${segment(name)}`),
    getCode: () => get('/version'),
    readOpenIdConfiguration: () => get('/.well-known/openid-configuration'),
    readOpenIdKeys: () => get('/openid/v1/jwks', 'application/jwk-set+json, application/json'),
  };
}

/**
 * KubeConfig authenticates every request anew (re-reading the CA, client certificate and token files, running exec
 * plugins), and with it sets a brand-new https.Agent without keep-alive: every GET would be a new TCP connection and
 * TLS handshake. This swaps the fresh agent for a keep-alive one built from the same TLS options, kept while those
 * options stay equal. A rotated CA or client certificate gets a new agent; the old one is dropped, its requests in
 * flight finish and its idle connections close after IDLE_CONNECTION_MS. Proxy agents (http.Agent subclasses) and
 * plain-HTTP agents are left as they are.
 */
function keepAliveAgent(): (request: RequestContext) => void {
  let pool: { options: https.AgentOptions; agent: https.Agent } | undefined;
  return (request) => {
    const fresh = request.getAgent();
    if (!(fresh instanceof https.Agent) || fresh.constructor !== https.Agent) return;
    // The options are read from the files on every request, so they are compared by value.
    if (!pool || !isDeepStrictEqual(pool.options, fresh.options)) {
      const agent = new https.Agent({ ...fresh.options, keepAlive: true, timeout: IDLE_CONNECTION_MS });
      pool = { options: fresh.options, agent };
    }
    request.setAgent(pool.agent);
  };
}
