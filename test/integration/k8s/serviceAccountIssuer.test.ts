/**
 * The service account issuer as the real kube-apiserver publishes it (its OIDC discovery endpoints), read through the
 * provider's own Kubernetes client, verifying tokens the apiserver minted with TokenRequest.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenVerifier } from '../../../src/auth/tokenVerifier.js';
import type { MountConfig } from '../../../src/config/types.js';
import { KubeClusterReader, loadCoreApi } from '../../../src/k8s/cluster.js';
import { ServiceAccountIssuer } from '../../../src/k8s/serviceAccountIssuer.js';
import { sharedCoreApi } from '../../../src/k8s/sharedCoreApi.js';
import { IRSA_AUDIENCE } from '../../fixtures/identity.js';
import { startPassThrough, writeKubeconfig, type PassThrough } from '../../harness/apiserverPassThrough.js';
import { createPod, createServiceAccount, ensureNamespace, mintToken } from '../../harness/kube.js';
import { usePeers } from '../../harness/peers.js';
import { freePort } from '../../harness/start/net.js';
import { kubeconfig } from '../../harness/start/kubeApiserver.js';

const NAMESPACE = 'k8s-issuer';

const mountOf = (pod: { name: string; uid: string }, token: string): MountConfig =>
  ({
    pod: { namespace: NAMESPACE, name: pod.name, uid: pod.uid, serviceAccountName: 'app' },
    tokens: { [IRSA_AUDIENCE]: { token } },
  }) as unknown as MountConfig;

describe("the API server's service account issuer", () => {
  let proxy: PassThrough;
  let dir: string;
  let pod: { name: string; uid: string };

  beforeAll(async () => {
    proxy = await startPassThrough(usePeers().kube.server);
    dir = await mkdtemp(join(usePeers().runDir, 'k8s-issuer-'));
    await ensureNamespace(NAMESPACE);
    await createServiceAccount(NAMESPACE, 'app');
    const created = await createPod(NAMESPACE, 'web-1', { serviceAccountName: 'app' });
    pod = { name: 'web-1', uid: created.metadata!.uid! };
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it('publishes the issuer the tokens carry and the key that signs them, read over the lookups’ connection', async () => {
    const kubeconfigPath = join(dir, 'kubeconfig');
    await writeKubeconfig(kubeconfigPath, proxy.server);
    const api = sharedCoreApi(() => loadCoreApi(kubeconfigPath));
    const issuer = new ServiceAccountIssuer(api);
    const lookups = new KubeClusterReader(api, { serviceAccountTtlMs: 60_000, maxEntries: 10 });
    const { token } = await mintToken(NAMESPACE, 'app', IRSA_AUDIENCE, 3600, pod);
    const { kid } = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string };
    const before = proxy.connections();

    const published = await issuer.keysFor(kid);
    await lookups.serviceAccountRoleArn(NAMESPACE, 'app');

    expect(published.issuer).toBe('https://kubernetes.default.svc');
    expect(published.keys).toHaveLength(1);
    expect(proxy.connections() - before).toBe(1);

    const verifier = new TokenVerifier(issuer, { maxEntries: 10 });
    await expect(verifier.podToken(mountOf(pod, token), IRSA_AUDIENCE)).resolves.toMatchObject({ token });
  });

  it('cannot be read (nothing listens) → KubernetesUnavailable naming the endpoint and what it is for', async () => {
    const { kube } = usePeers();
    const kubeconfigPath = join(dir, 'kubeconfig-closed');
    await writeFile(kubeconfigPath, kubeconfig(`https://127.0.0.1:${await freePort()}`, kube.caFile, 'admin', kube.token));
    const verifier = new TokenVerifier(new ServiceAccountIssuer(() => loadCoreApi(kubeconfigPath)), { maxEntries: 10 });
    const { token } = await mintToken(NAMESPACE, 'app', IRSA_AUDIENCE, 3600, pod);

    const error = await verifier.podToken(mountOf(pod, token), IRSA_AUDIENCE).catch((e: unknown) => e);

    expect(error).toMatchObject({ code: 'KubernetesUnavailable', grpcStatus: status.UNAVAILABLE });
    expect((error as Error).message).toMatch(
      /cannot read GET \/(\.well-known\/openid-configuration|openid\/v1\/jwks) from the Kubernetes API .*ECONNREFUSED/,
    );
    expect((error as Error).message).toContain("the provider verifies every pod's service account token");
    expect((error as Error).message).not.toContain(token.split('.')[2]!.slice(0, 40));
  });
});
