/**
 * The provider's Kubernetes client keeps its TLS connections to the apiserver open between GETs, as a pass-through
 * in front of the real kube-apiserver counts them (harness/apiserverPassThrough.ts). The same client, with the real
 * apiserver's 404 and 403, gives the errors a Mount reports.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { KubeClusterReader, REGION_LABEL, ROLE_ARN_ANNOTATION, loadCoreApi } from '../../../src/k8s/cluster.js';
import { connectCoreApi } from '../../../src/k8s/coreApi.js';
import { startPassThrough, writeKubeconfig, type PassThrough } from '../../harness/apiserverPassThrough.js';
import { createNode, createPod, createServiceAccount, ensureNamespace, mintToken } from '../../harness/kube.js';
import { usePeers } from '../../harness/peers.js';
import { kubeconfig } from '../../harness/start/kubeApiserver.js';

const NAMESPACE = 'k8s-connections';
const NODE = 'k8s-connections-node';
const ROLE_ARN = 'arn:aws:iam::123456789012:role/keep-alive';
const run = promisify(execFile);

/** A new self-signed client certificate and key at these paths, each replaced in one rename. */
async function writeClientCertificate(cert: string, key: string, name: string): Promise<void> {
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', `${key}.new`, '-out', `${cert}.new`, '-days', '1', '-subj', `/CN=${name}`]);
  await rename(`${key}.new`, key);
  await rename(`${cert}.new`, cert);
}

describe('connections to the apiserver', () => {
  let proxy: PassThrough;
  let dir: string;

  beforeAll(async () => {
    proxy = await startPassThrough(usePeers().kube.server);
    dir = await mkdtemp(join(usePeers().runDir, 'k8s-connections-'));
    await ensureNamespace(NAMESPACE);
    await createServiceAccount(NAMESPACE, 'app', { [ROLE_ARN_ANNOTATION]: ROLE_ARN });
    await createNode(NODE, { [REGION_LABEL]: 'eu-west-1' });
    await createPod(NAMESPACE, 'app', { serviceAccountName: 'app', nodeName: NODE });
  });

  afterAll(async () => {
    await proxy?.close();
  });

  it('5 sequential GETs (ServiceAccount, Pod, Node) share one TLS connection and return the right objects', async () => {
    const kubeconfigPath = join(dir, 'kubeconfig');
    await writeKubeconfig(kubeconfigPath, proxy.server);
    const api = connectCoreApi(kubeconfigPath);
    const before = proxy.connections();

    const account = await api.readNamespacedServiceAccount({ namespace: NAMESPACE, name: 'app' });
    const pod = await api.readNamespacedPod({ namespace: NAMESPACE, name: 'app' });
    const node = await api.readNode({ name: pod.spec!.nodeName! });
    const again = await api.readNamespacedServiceAccount({ namespace: NAMESPACE, name: 'app' });
    const missing = await api.readNamespacedServiceAccount({ namespace: NAMESPACE, name: 'none' }).catch((e) => e);

    expect(account.metadata?.annotations?.[ROLE_ARN_ANNOTATION]).toBe(ROLE_ARN);
    expect(pod.spec?.nodeName).toBe(NODE);
    expect(node.metadata?.labels?.[REGION_LABEL]).toBe('eu-west-1');
    expect(again.metadata?.uid).toBe(account.metadata?.uid);
    expect((missing as { code?: number }).code).toBe(404);
    expect(proxy.connections() - before).toBe(1);
  });

  it('a rotated client certificate opens one new connection, which later GETs reuse', async () => {
    const cert = join(dir, 'client.crt');
    const key = join(dir, 'client.key');
    await writeClientCertificate(cert, key, 'before-rotation');
    const kubeconfigPath = join(dir, 'kubeconfig-with-certificate');
    await writeKubeconfig(kubeconfigPath, proxy.server, { cert, key });
    const api = connectCoreApi(kubeconfigPath);
    const read = () => api.readNamespacedServiceAccount({ namespace: NAMESPACE, name: 'app' });
    const before = proxy.connections();

    await read();
    await read();
    expect(proxy.connections() - before).toBe(1);

    await writeClientCertificate(cert, key, 'after-rotation');
    const reads = [await read(), await read(), await read()];

    expect(reads.map((a) => a.metadata?.annotations?.[ROLE_ARN_ANNOTATION])).toEqual([ROLE_ARN, ROLE_ARN, ROLE_ARN]);
    expect(proxy.connections() - before).toBe(2);
  });

  it('after the apiserver closes an idle connection, the next GET opens a new one and succeeds', async () => {
    const kubeconfigPath = join(dir, 'kubeconfig-dropped');
    await writeKubeconfig(kubeconfigPath, proxy.server);
    const api = connectCoreApi(kubeconfigPath);
    const read = () => api.readNamespacedServiceAccount({ namespace: NAMESPACE, name: 'app' });
    const before = proxy.connections();
    await read();

    proxy.drop();
    // Time for the client to see the connection end while it sits idle in the pool.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const after = [await read(), await read()];

    expect(after.map((a) => a.metadata?.annotations?.[ROLE_ARN_ANNOTATION])).toEqual([ROLE_ARN, ROLE_ARN]);
    expect(proxy.connections() - before).toBe(2);
  });
});

const reader = (kubeconfigPath: string) =>
  new KubeClusterReader(() => loadCoreApi(kubeconfigPath), { serviceAccountTtlMs: 60_000, maxEntries: 10 });

/** A kubeconfig in `dir` that signs in as a new ServiceAccount `name`, to which RBAC grants nothing. */
async function noRbacKubeconfig(dir: string, name: string): Promise<string> {
  await createServiceAccount(NAMESPACE, name);
  // The apiserver's own audience (its issuer), so the token signs the provider in as that ServiceAccount.
  const { token } = await mintToken(NAMESPACE, name, 'https://kubernetes.default.svc');
  const { kube } = usePeers();
  const kubeconfigPath = join(dir, `kubeconfig-${name}`);
  await writeFile(kubeconfigPath, kubeconfig(kube.server, kube.caFile, name, token), { mode: 0o600 });
  return kubeconfigPath;
}

describe("the apiserver's refusals, as a Mount reports them", () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(usePeers().runDir, 'k8s-refusals-'));
    await ensureNamespace(NAMESPACE);
  });

  it('a ServiceAccount that does not exist → NOT_FOUND naming it', async () => {
    const { kube } = usePeers();
    const kubeconfigPath = join(dir, 'kubeconfig-admin');
    await writeFile(kubeconfigPath, kubeconfig(kube.server, kube.caFile, 'admin', kube.token), { mode: 0o600 });
    const error = await reader(kubeconfigPath).serviceAccountRoleArn(NAMESPACE, 'no-such-account').catch((e) => e);
    expect(error).toMatchObject({ grpcStatus: status.NOT_FOUND, code: 'KubernetesNotFound' });
    expect(error.message).toBe(`Kubernetes API: get serviceaccount ${NAMESPACE}/no-such-account: not found`);
  });

  it("a provider identity RBAC grants nothing → PERMISSION_DENIED naming the lookup, the status and the ClusterRole's verbs", async () => {
    const kubeconfigPath = await noRbacKubeconfig(dir, 'no-rbac');
    const error = await reader(kubeconfigPath).serviceAccountRoleArn(NAMESPACE, 'no-rbac').catch((e) => e);
    expect(error).toMatchObject({ grpcStatus: status.PERMISSION_DENIED, code: 'KubernetesAccessDenied' });
    expect(error.message).toContain(`Kubernetes API refused to get serviceaccount ${NAMESPACE}/no-rbac (HTTP 403)`);
    expect(error.message).toContain(`ClusterRole must allow "get" on serviceaccounts`);
  });
});

describe("the start's warm-up: the apiserver's /version", () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(usePeers().runDir, 'k8s-warm-up-'));
    await ensureNamespace(NAMESPACE);
  });

  it('is read by a provider identity RBAC grants nothing, and resolves with the server version', async () => {
    const kubeconfigPath = await noRbacKubeconfig(dir, 'warm-up-no-rbac');
    await expect(reader(kubeconfigPath).warmUp()).resolves.toMatch(/^v1\.\d+\.\d+/);
  });

  it('an apiserver that cannot be reached → an error naming the GET and the cause', async () => {
    const { kube } = usePeers();
    const closed = await startPassThrough(kube.server);
    await closed.close();
    const kubeconfigPath = join(dir, 'kubeconfig-closed');
    await writeFile(kubeconfigPath, kubeconfig(closed.server, kube.caFile, 'admin', kube.token), { mode: 0o600 });
    await expect(reader(kubeconfigPath).warmUp()).rejects.toThrow(/^GET \/version: .*ECONNREFUSED/);
  });
});
