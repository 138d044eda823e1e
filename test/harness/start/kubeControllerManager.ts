import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { freePort } from './net.js';
import { peerError, startPeer, waitReady, type PeerProcess } from './process.js';
import { CONTROLLER_MANAGER_USER, kubeconfig, type RunningKubeApiserver } from './kubeApiserver.js';

export interface RunningKubeControllerManager {
  /** https://127.0.0.1:PORT, its own serving port (health, metrics). */
  server: string;
  process: PeerProcess;
}

/** The garbage collector alone: what removes the objects whose owners are gone (owner references). */
const CONTROLLERS = ['garbage-collector-controller'];

/** Logged by the garbage collector once its first sync of the resource monitors is over. */
const GC_STARTED = 'Proceeding to collect garbage';

/**
 * Starts kube-controller-manager with its garbage collector only, as CONTROLLER_MANAGER_USER, and waits until it
 * serves /healthz and the collector has started. No other controller runs: the serviceaccount, namespace and token
 * controllers would create or delete objects that the tests create and count themselves.
 */
export async function startKubeControllerManager(
  binary: string,
  kube: RunningKubeApiserver,
  runDir: string,
  logDir: string,
): Promise<RunningKubeControllerManager> {
  // A real cluster's collector runs as the generic-garbage-collector service account (get, list, watch, patch,
  // update, delete on everything). With --use-service-account-credentials=false it runs as the controller-manager's
  // own user, whose bootstrap role only lists and watches: give that user the collector's bootstrap role as well.
  const binding = await kube.call('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    metadata: { name: 'peers:kube-controller-manager:generic-garbage-collector' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:controller:generic-garbage-collector' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: CONTROLLER_MANAGER_USER }],
  });
  if (binding.status !== 201 && binding.status !== 409) {
    throw peerError(kube.process, `refused the controller-manager's ClusterRoleBinding: HTTP ${binding.status} ${binding.text}`);
  }
  const dir = join(runDir, 'kube-controller-manager');
  await mkdir(dir, { recursive: true });
  const kubeconfigPath = join(dir, 'kubeconfig');
  await writeFile(kubeconfigPath, kubeconfig(kube.server, kube.caFile, CONTROLLER_MANAGER_USER, kube.controllerManagerToken), {
    mode: 0o600,
  });
  const port = await freePort();
  const server = `https://127.0.0.1:${port}`;
  const logFile = join(logDir, 'kube-controller-manager.log');
  const peer = startPeer(
    'kube-controller-manager',
    binary,
    [
      `--kubeconfig=${kubeconfigPath}`,
      // Delegated authentication and authorization of its own port, through the apiserver, as in a cluster.
      `--authentication-kubeconfig=${kubeconfigPath}`,
      `--authorization-kubeconfig=${kubeconfigPath}`,
      `--controllers=${CONTROLLERS.join(',')}`,
      '--use-service-account-credentials=false',
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${port}`,
      // Its self-signed serving certificate (and its CA) land here.
      `--cert-dir=${dir}`,
    ],
    logFile,
  );
  await waitReady(
    peer,
    async () => {
      const ca = readFileSync(join(dir, 'kube-controller-manager.crt'));
      const healthz = await httpsGet(server, ca, kube.controllerManagerToken, '/healthz');
      if (healthz.status !== 200) throw new Error(`/healthz answered HTTP ${healthz.status} ${healthz.text}`);
      return readFileSync(logFile, 'utf8').includes(GC_STARTED);
    },
    60_000,
  );
  return { server, process: peer };
}

function httpsGet(server: string, ca: Buffer, token: string, path: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, server),
      { ca, headers: { authorization: `Bearer ${token}` }, timeout: 5_000 },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.once('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.once('error', reject);
      },
    );
    req.once('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.once('error', reject);
    req.end();
  });
}
