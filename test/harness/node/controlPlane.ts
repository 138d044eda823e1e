import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CONTROLLER_MANAGER_USER, kubeconfig, type RunningKubeApiserver } from '../start/kubeApiserver.js';
import { freePort } from '../start/net.js';
import { startPeer, waitReady, type PeerProcess } from '../start/process.js';

/** The user kube-scheduler authenticates as: bootstrap RBAC binds the system:kube-scheduler role to it. */
export const SCHEDULER_USER = 'system:kube-scheduler';

/**
 * The controllers a node's workloads need: service accounts and their root CA, owner references, DaemonSets,
 * Deployments and their ReplicaSets, namespace deletion, node lifecycle, TTLs and EndpointSlices.
 */
const NODE_CONTROLLERS = [
  'serviceaccount-controller',
  'serviceaccount-token-controller',
  'root-ca-certificate-publisher-controller',
  'garbage-collector-controller',
  'daemonset-controller',
  'deployment-controller',
  'replicaset-controller',
  'namespace-controller',
  'node-lifecycle-controller',
  'ttl-controller',
  'endpointslice-controller',
];

/** Flags both serve their health port with: loopback, delegated authn/authz, a self-signed cert in their dir. */
async function servingFlags(dir: string, kubeconfigPath: string): Promise<string[]> {
  return [
    `--authentication-kubeconfig=${kubeconfigPath}`,
    `--authorization-kubeconfig=${kubeconfigPath}`,
    '--bind-address=127.0.0.1',
    `--secure-port=${await freePort()}`,
    `--cert-dir=${dir}`,
    '--leader-elect=false',
  ];
}

/**
 * kube-controller-manager with NODE_CONTROLLERS, each controller under its own service account
 * (--use-service-account-credentials), as a cluster runs it.
 */
export async function startNodeControllerManager(
  binary: string,
  kube: RunningKubeApiserver,
  serviceAccountKeyFile: string,
  runDir: string,
  logDir: string,
): Promise<PeerProcess> {
  const dir = join(runDir, 'kube-controller-manager');
  await mkdir(dir, { recursive: true });
  const kubeconfigPath = join(dir, 'kubeconfig');
  await writeFile(kubeconfigPath, kubeconfig(kube.server, kube.caFile, CONTROLLER_MANAGER_USER, kube.controllerManagerToken), { mode: 0o600 });
  const peer = startPeer(
    'kube-controller-manager',
    binary,
    [
      `--kubeconfig=${kubeconfigPath}`,
      ...(await servingFlags(dir, kubeconfigPath)),
      `--controllers=${NODE_CONTROLLERS.join(',')}`,
      '--use-service-account-credentials=true',
      `--service-account-private-key-file=${serviceAccountKeyFile}`,
      `--root-ca-file=${kube.caFile}`,
      // A test's Deployment scales and its pods go at once, not in the default 0.5 s steps per sync.
      '--concurrent-deployment-syncs=5',
    ],
    join(logDir, 'kube-controller-manager.log'),
  );
  // Its serviceaccount controller has run once the kube-system namespace's default ServiceAccount exists.
  await waitReady(peer, async () => (await kube.call('GET', '/api/v1/namespaces/kube-system/serviceaccounts/default')).status === 200, 60_000);
  return peer;
}

export async function startScheduler(
  binary: string,
  kube: RunningKubeApiserver,
  token: string,
  runDir: string,
  logDir: string,
): Promise<PeerProcess> {
  const dir = join(runDir, 'kube-scheduler');
  await mkdir(dir, { recursive: true });
  const kubeconfigPath = join(dir, 'kubeconfig');
  await writeFile(kubeconfigPath, kubeconfig(kube.server, kube.caFile, SCHEDULER_USER, token), { mode: 0o600 });
  const peer = startPeer(
    'kube-scheduler',
    binary,
    [`--kubeconfig=${kubeconfigPath}`, ...(await servingFlags(dir, kubeconfigPath))],
    join(logDir, 'kube-scheduler.log'),
  );
  // Without leader election it leaves no trace in the API: its log says when it serves.
  const logFile = join(logDir, 'kube-scheduler.log');
  await waitReady(peer, async () => readFileSync(logFile, 'utf8').includes('Serving securely'), 60_000);
  return peer;
}
