import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';

/**
 * For programs that start their own apiserver outside vitest (the demo, the fuzzer's process phase): creates the
 * namespace and an IRSA-annotated ServiceAccount, mints its `sts.amazonaws.com` token with TokenRequest, and returns
 * the `csi.storage.k8s.io/serviceAccount.tokens` attribute the driver would pass.
 */
export async function irsaServiceAccountTokens(
  kubeconfigPath: string,
  account: { namespace: string; name: string; roleArn: string },
): Promise<string> {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath);
  const core = config.makeApiClient(CoreV1Api);
  const { namespace, name, roleArn } = account;
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await core.createNamespacedServiceAccount({
    namespace,
    body: { metadata: { name, annotations: { 'eks.amazonaws.com/role-arn': roleArn } } },
  });
  const minted = await core.createNamespacedServiceAccountToken({
    namespace,
    name,
    body: { spec: { audiences: ['sts.amazonaws.com'], expirationSeconds: 3600 } },
  });
  const expirationTimestamp = new Date(minted.status!.expirationTimestamp!).toISOString().replace(/\.\d+Z$/, 'Z');
  return JSON.stringify({ 'sts.amazonaws.com': { token: minted.status!.token, expirationTimestamp } });
}
