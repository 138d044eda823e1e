import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';

/**
 * The CoreV1 client of `--kubeconfig`, else $KUBECONFIG, ~/.kube/config or the in-cluster service account.
 * Its own module so that it is the one dynamically imported: the bundler then splits @kubernetes/client-node into a
 * chunk loaded on first use, and keeps only the parts these two imports reach.
 */
export function connectCoreApi(kubeconfigPath?: string): CoreV1Api {
  const config = new KubeConfig();
  if (kubeconfigPath) config.loadFromFile(kubeconfigPath);
  else config.loadFromDefault();
  return config.makeApiClient(CoreV1Api);
}
