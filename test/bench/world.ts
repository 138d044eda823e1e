/**
 * The benchmark's world: moto behind the fault proxy (with a delay on every call), etcd and the real
 * kube-apiserver (with its audit log when the harness writes one), the seeded secrets and parameters, and
 * ServiceAccounts with the IRSA role annotation whose tokens come from TokenRequest, as the driver mints them.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { ApiException, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import pLimit from 'p-limit';
import { startFaultProxy, type FaultProxy } from '../harness/faultProxy.js';
import { startEtcd } from '../harness/start/etcd.js';
import { locatePeers } from '../harness/start/installEnv.js';
import { AUDIT_LOG, startKubeApiserver } from '../harness/start/kubeApiserver.js';
import { startMoto } from '../harness/start/moto.js';
import { stopAllPeers } from '../harness/start/process.js';
import { auditedReads, readAuditLog } from './measure.js';
import { benchObjects, benchValue } from './spc.js';
import { IRSA_AUDIENCE, ROLE_ANNOTATION } from '../fixtures/identity.js';

export const REGION = 'us-east-1';
export const FAILOVER_REGION = 'us-west-2';
export { IRSA_AUDIENCE, ROLE_ANNOTATION };

export interface World {
  proxy: FaultProxy;
  motoUrl: string;
  kubeconfigPath: string;
  /** The Node.js the image runs (a pinned peer): what the provider is measured on unless --node says otherwise. */
  imageNode: string;
  /** The apiserver's audit log of `get` on serviceaccounts, pods and nodes (see start/kubeApiserver.ts). */
  auditLogPath: string;
  core: CoreV1Api;
  /** One GET of `path` from the apiserver, over a kept-alive connection as the provider's are; throws unless 200. */
  kubeGet(path: string): Promise<void>;
  /** Sets the injected delay on every AWS call (0: none). */
  setDelay(ms: number): void;
  ensureNamespace(name: string): Promise<void>;
  /** A ServiceAccount annotated with its own IRSA role. */
  serviceAccount(namespace: string, name: string): Promise<string>;
  /** The tokens attribute the driver would pass for a pod of the service account. */
  tokens(namespace: string, serviceAccount: string): Promise<string>;
  /**
   * The apiserver's reads of serviceaccounts/pods/nodes in `namespaces` so far, by its audit log; undefined
   * when there is no audit log. Waits until a marker GET of its own shows, so every earlier request is counted.
   */
  auditReads(namespaces: ReadonlySet<string>): Promise<Record<'serviceaccounts' | 'pods' | 'nodes', number> | undefined>;
  close(): Promise<void>;
}

export async function startWorld(options: { proxyPort?: number; log: (line: string) => void }): Promise<World> {
  const runDir = mkdtempSync(join(tmpdir(), 'provider-bench-'));
  const logDir = join(runDir, 'logs');
  mkdirSync(logDir);
  const binaries = await locatePeers();
  options.log('starting moto, etcd and kube-apiserver on 127.0.0.1 …');
  const [moto, etcd] = await Promise.all([startMoto(binaries.motoServer, logDir), startEtcd(binaries.etcd, runDir, logDir)]);
  const kube = await startKubeApiserver(binaries.kubeApiserver, etcd.url, runDir, logDir);
  const proxy = await startFaultProxy(moto.url, { port: options.proxyPort });
  await seed(moto.url);

  const config = new KubeConfig();
  config.loadFromFile(kube.kubeconfigPath);
  const core = config.makeApiClient(CoreV1Api);
  const keep409 = (err: unknown) => {
    if (!(err instanceof ApiException && err.code === 409)) throw err;
  };
  const auditLogPath = join(logDir, AUDIT_LOG);
  let markers = 0;
  let auditMissing = false;

  return {
    proxy,
    motoUrl: moto.url,
    kubeconfigPath: kube.kubeconfigPath,
    imageNode: binaries.imageNode,
    auditLogPath,
    core,
    async kubeGet(path) {
      const { status, text } = await kube.call('GET', path);
      if (status !== 200) throw new Error(`GET ${path} answered ${status}: ${text}`);
    },
    setDelay(ms) {
      proxy.clearFaults();
      if (ms > 0) proxy.setFault({ kind: 'delay', ms });
    },
    async ensureNamespace(name) {
      await core.createNamespace({ body: { metadata: { name } } }).catch(keep409);
      await core
        .createNamespacedServiceAccount({ namespace: name, body: { metadata: { name: 'default' } } })
        .catch(keep409);
    },
    async serviceAccount(namespace, name) {
      const role = `arn:aws:iam::123456789012:role/${namespace}-${name}`;
      await core
        .createNamespacedServiceAccount({
          namespace,
          body: { metadata: { name, annotations: { [ROLE_ANNOTATION]: role } } },
        })
        .catch(keep409);
      return role;
    },
    async tokens(namespace, serviceAccount) {
      const out = await core.createNamespacedServiceAccountToken({
        namespace,
        name: serviceAccount,
        body: { spec: { audiences: [IRSA_AUDIENCE], expirationSeconds: 3600 } },
      });
      const expires = new Date(out.status!.expirationTimestamp!).toISOString().replace(/\.\d+Z$/, 'Z');
      return JSON.stringify({ [IRSA_AUDIENCE]: { token: out.status!.token, expirationTimestamp: expires } });
    },
    async auditReads(namespaces) {
      if (auditMissing) return undefined;
      const marker = `bench-audit-marker-${++markers}`;
      await core.readNamespacedServiceAccount({ namespace: 'default', name: marker }).catch(() => undefined);
      for (let attempt = 0; attempt < 100; attempt++) {
        const events = await readAuditLog(auditLogPath);
        if (events.some((e) => e.verb === 'get' && e.objectRef?.name === marker)) return auditedReads(events, namespaces);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      options.log(`the audit log ${auditLogPath} never showed the marker GET ${marker}: counting from metrics only`);
      auditMissing = true;
      return undefined;
    },
    async close() {
      await proxy.close();
      await stopAllPeers();
      rmSync(runDir, { recursive: true, force: true });
    },
  };
}

/** Mints tokens for many pods at once, ten TokenRequests at a time. */
export async function mintMany(world: World, namespace: string, serviceAccounts: readonly string[]): Promise<string[]> {
  const limit = pLimit(10);
  return Promise.all(serviceAccounts.map((sa) => limit(() => world.tokens(namespace, sa))));
}

/** The same objects in both regions (the failover region must hold them too, though S4 must never ask it). */
async function seed(motoUrl: string): Promise<void> {
  const limit = pLimit(8);
  const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };
  await Promise.all(
    [REGION, FAILOVER_REGION].flatMap((region) => {
      const sm = new SecretsManagerClient({ region, endpoint: motoUrl, credentials });
      const ssm = new SSMClient({ region, endpoint: motoUrl, credentials });
      return benchObjects().map((object, i) =>
        limit(() =>
          object.objectType === 'secretsmanager'
            ? sm.send(new CreateSecretCommand({ Name: object.objectName, SecretString: benchValue(object, i, region) }))
            : ssm.send(new PutParameterCommand({ Name: object.objectName, Value: benchValue(object, i, region), Type: 'SecureString' })),
        ),
      );
    }),
  );
}
