import https from 'node:https';
import { isDeepStrictEqual } from 'node:util';
import {
  CoreV1Api,
  KubeConfig,
  ServerConfiguration,
  createConfiguration,
  type Middleware,
} from '@kubernetes/client-node';

/**
 * We close an idle connection ourselves after this long: well before the apiserver's own idle timeout (90 s), so that
 * a request never goes out on a connection the server is closing at that moment.
 */
const IDLE_CONNECTION_MS = 60_000;

/**
 * The CoreV1 client of `--kubeconfig`, else $KUBECONFIG, ~/.kube/config or the in-cluster service account.
 * Its own module so that it is the one dynamically imported: the bundler then splits @kubernetes/client-node into a
 * chunk loaded on first use, and keeps only the parts these imports reach.
 */
export function connectCoreApi(kubeconfigPath?: string): CoreV1Api {
  const config = new KubeConfig();
  if (kubeconfigPath) config.loadFromFile(kubeconfigPath);
  else config.loadFromDefault();
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new Error('No active cluster!');
  // What KubeConfig.makeApiClient builds, plus one middleware: makeApiClient takes none.
  const configuration = createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: { default: config },
    promiseMiddleware: [keepAliveAgent()],
  });
  return new CoreV1Api(configuration);
}

/**
 * client-node authenticates every request anew (re-reading the CA, client certificate and token files, running exec
 * plugins), and with it sets a brand-new https.Agent without keep-alive: every GET would be a new TCP connection and
 * TLS handshake. Middleware runs after that, just before the request is sent: it swaps the fresh agent for a
 * keep-alive one built from the same TLS options, kept while those options stay equal. A rotated CA or client
 * certificate gets a new agent; the old one is dropped, its requests in flight finish and its idle connections close
 * after IDLE_CONNECTION_MS. Proxy agents (http.Agent subclasses) and plain-HTTP agents are left as they are.
 */
function keepAliveAgent(): Middleware {
  let pool: { options: https.AgentOptions; agent: https.Agent } | undefined;
  return {
    pre: async (context) => {
      const fresh = context.getAgent();
      if (!(fresh instanceof https.Agent) || fresh.constructor !== https.Agent) return context;
      // The options are read from the files on every request, so they are compared by value.
      if (!pool || !isDeepStrictEqual(pool.options, fresh.options)) {
        const agent = new https.Agent({ ...fresh.options, keepAlive: true, timeout: IDLE_CONNECTION_MS });
        pool = { options: fresh.options, agent };
      }
      context.setAgent(pool.agent);
      return context;
    },
    post: async (response) => response,
  };
}
