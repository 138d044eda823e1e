import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { makeApiserverPki } from './certs.js';
import { freePort } from './net.js';
import { peerError, startPeer, waitReady, type PeerProcess } from './process.js';

export interface RunningKubeApiserver {
  server: string;
  /** Bearer token of the admin, a system:masters user. */
  token: string;
  /** Bearer token of CONTROLLER_MANAGER_USER, in no group: it may do what RBAC binds to that user. */
  controllerManagerToken: string;
  caFile: string;
  kubeconfigPath: string;
  /** A request of the admin, JSON in and out. */
  call: Call;
  process: PeerProcess;
}

/**
 * The user kube-controller-manager authenticates as: the name the apiserver's bootstrap RBAC binds to the
 * system:kube-controller-manager role, and the name the audit log shows for its requests.
 */
export const CONTROLLER_MANAGER_USER = 'system:kube-controller-manager';

/** A user of the token file: the test node's kubelet and scheduler authenticate as theirs. */
export interface TokenUser {
  token: string;
  name: string;
  groups?: string[];
}

export interface KubeApiserverOptions {
  users?: TokenUser[];
  /** More flags, e.g. the client certificate the apiserver shows a kubelet. */
  args?: string[];
}

export async function startKubeApiserver(
  binary: string,
  etcdUrl: string,
  runDir: string,
  logDir: string,
  options: KubeApiserverOptions = {},
): Promise<RunningKubeApiserver> {
  const pki = await makeApiserverPki(join(runDir, 'pki'));
  const token = randomBytes(24).toString('hex');
  const controllerManagerToken = randomBytes(24).toString('hex');
  const tokenFile = join(runDir, 'tokens.csv');
  await writeFile(
    tokenFile,
    `${token},admin,admin-uid,"system:masters"\n${controllerManagerToken},${CONTROLLER_MANAGER_USER},kcm-uid\n` +
      (options.users ?? []).map((u) => `${u.token},${u.name},${u.name}-uid,"${(u.groups ?? []).join(',')}"\n`).join(''),
    { mode: 0o600 },
  );
  const auditPolicyFile = join(runDir, 'audit-policy.yaml');
  await writeFile(auditPolicyFile, stringify(AUDIT_POLICY));
  const port = await freePort();
  const server = `https://127.0.0.1:${port}`;
  const peer = startPeer(
    'kube-apiserver',
    binary,
    [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      // Without a default route the apiserver cannot pick an address to advertise for the kubernetes Service.
      '--advertise-address=127.0.0.1',
      `--secure-port=${port}`,
      `--cert-dir=${join(runDir, 'pki')}`,
      `--tls-cert-file=${pki.certFile}`,
      `--tls-private-key-file=${pki.keyFile}`,
      `--token-auth-file=${tokenFile}`,
      '--authorization-mode=Node,RBAC',
      '--service-cluster-ip-range=10.96.0.0/24',
      '--service-account-issuer=https://kubernetes.default.svc',
      `--service-account-key-file=${pki.serviceAccountPublicKeyFile}`,
      `--service-account-signing-key-file=${pki.serviceAccountKeyFile}`,
      // The Endpoints of the kubernetes Service would point at loopback, which is invalid.
      '--endpoint-reconciler-type=none',
      // What the provider reads, as the apiserver saw it: tests count ServiceAccount GETs here.
      `--audit-policy-file=${auditPolicyFile}`,
      `--audit-log-path=${join(logDir, AUDIT_LOG)}`,
      '--audit-log-mode=blocking',
      ...(options.args ?? []),
    ],
    join(logDir, 'kube-apiserver.log'),
  );
  const ca = readFileSync(pki.caFile);
  const call: Call = (method, path, body) => httpsJson(server, ca, token, method, path, body);
  await waitReady(peer, async () => (await call('GET', '/readyz')).status === 200, 120_000);
  await createDefaultServiceAccount(peer, call);
  const kubeconfigPath = join(runDir, 'kubeconfig');
  await writeFile(kubeconfigPath, kubeconfig(server, pki.caFile, 'admin', token), { mode: 0o600 });
  return { server, token, controllerManagerToken, caFile: pki.caFile, kubeconfigPath, call, process: peer };
}

/** The audit log's file name in the log dir: one JSON event per line (see test/harness/audit.ts). */
export const AUDIT_LOG = 'kube-apiserver-audit.log';

/** One event per `get` of the resources the provider reads; nothing else. */
const AUDIT_POLICY = {
  apiVersion: 'audit.k8s.io/v1',
  kind: 'Policy',
  omitStages: ['RequestReceived'],
  rules: [
    { level: 'Metadata', verbs: ['get'], resources: [{ group: '', resources: ['serviceaccounts', 'pods', 'nodes'] }] },
    { level: 'None' },
  ],
};

export type Call = (method: string, path: string, body?: unknown) => Promise<{ status: number; text: string }>;

/**
 * The ServiceAccount admission plugin rejects pods whose service account is missing, and no serviceaccount
 * controller runs to create `default` (the tests' kube-controller-manager runs only its garbage collector): do its
 * job for the default namespace (which the apiserver creates shortly after start).
 */
async function createDefaultServiceAccount(peer: PeerProcess, call: Call): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { status, text } = await call('POST', '/api/v1/namespaces/default/serviceaccounts', {
      metadata: { name: 'default' },
    });
    if (status === 201 || status === 409) return;
    if (status !== 404 || Date.now() > deadline) {
      throw peerError(peer, `refused the default ServiceAccount: HTTP ${status} ${text}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** A kubeconfig of one user (by bearer token) of the test apiserver. */
export function kubeconfig(server: string, caFile: string, user: string, token: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'peers', cluster: { server, 'certificate-authority': caFile } }],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: 'peers', context: { cluster: 'peers', user, namespace: 'default' } }],
    'current-context': 'peers',
  });
}

function httpsJson(
  server: string,
  ca: Buffer,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, server),
      {
        method,
        ca,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        timeout: 5_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.once('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.once('error', reject);
      },
    );
    req.once('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.once('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}
