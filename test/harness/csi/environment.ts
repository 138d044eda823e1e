import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../faultProxy.js';
import { createNode, createServiceAccount, ensureNamespace } from '../kube.js';
import { IRSA_AUDIENCE, POD_IDENTITY_AUDIENCE, ROLE_ANNOTATION } from '../mountEnvironment.js';
import { usePeers } from '../peers.js';
import { startProvider, type RunningProvider } from '../provider.js';
import { createSecretProviderClass, type SecretProviderClassSpec } from './cluster.js';
import { driverLogTail, startCsiDriver, type RunningCsiDriver } from './driver.js';
import { KubeletPod } from './kubelet.js';
import { locateDriverModuleFiles } from './moduleCache.js';
import { started as startedPeer } from '../started.js';

export interface CsiEnvironment {
  readonly proxy: FaultProxy;
  readonly provider: RunningProvider;
  readonly driver: RunningCsiDriver;
  /** A namespace of this file in the real apiserver. */
  readonly namespace: string;
  createSpc(name: string, spec: SecretProviderClassSpec): Promise<void>;
  /** A ServiceAccount annotated with an IRSA role and a Pod of it on the driver's node, not yet published. */
  pod(name: string, spc: string): Promise<KubeletPod>;
}

export interface CsiEnvironmentOptions {
  /** Env of the provider besides AWS_ENDPOINT_URL, e.g. AWS_REGION. */
  providerEnv?: Record<string, string>;
  /**
   * The provider's flags. By default `--rotation-cache-ttl=0`: the driver's cases assert that each re-publish it
   * lets through reaches AWS, as ASCP's does; the answer cache has cases of its own.
   */
  providerArgs?: string[];
}

/**
 * The whole chain of a node, for one test file: the real Secrets Store CSI driver (in a mount namespace of its
 * own) → our provider process on its Unix socket → the fault proxy → moto, with the real apiserver holding the
 * SecretProviderClasses, Pods, pod statuses and synced Secrets. The test plays kubelet through KubeletPod.
 */
export function useCsiEnvironment(options: CsiEnvironmentOptions = {}): CsiEnvironment {
  const peers = usePeers();
  const suffix = randomBytes(4).toString('hex');
  const namespace = `e2e-${suffix}`;
  // One node per file: the driver watches only the pods and pod statuses of its node.
  const nodeId = `e2e-node-${suffix}`;
  let proxy: FaultProxy | undefined;
  let provider: RunningProvider | undefined;
  let driver: RunningCsiDriver | undefined;
  let dir: string | undefined;

  beforeAll(async () => {
    // The globalSetup installed the driver's CRDs.
    const files = locateDriverModuleFiles(peers.gomodcache, peers.binaries.csiDriver);
    await ensureNamespace(namespace);
    await createNode(nodeId);
    dir = mkdtempSync(join(peers.runDir, 'e2e-'));
    proxy = await startFaultProxy(peers.motoUrl);
    provider = await startProvider({
      kubeconfigPath: peers.kube.kubeconfigPath,
      providerVolume: dir,
      args: options.providerArgs ?? ['--rotation-cache-ttl=0'],
      env: { AWS_ENDPOINT_URL: proxy.url, ...options.providerEnv },
    });
    driver = await startCsiDriver({
      binary: peers.binaries.csiDriver,
      csiProto: files.csiProto,
      kubeconfigPath: peers.kube.kubeconfigPath,
      nodeId,
      providerVolume: dir,
      parentDir: dir,
      logDir: peers.logDir,
    });
  });
  afterAll(async () => {
    await driver?.stop();
    await provider?.stop();
    await proxy?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(({ onTestFailed }) => {
    proxy?.clearFaults();
    proxy?.clearRecords();
    onTestFailed(() => {
      if (driver) console.error(driverLogTail(driver));
      if (provider) console.error(`----- last lines of the provider -----\n${provider.output().trimEnd().split('\n').slice(-30).join('\n')}`);
    });
  });

  const started = <T>(value: T | undefined, what: string): T => startedPeer(value, what, 'useCsiEnvironment');

  return {
    get proxy() {
      return started(proxy, 'fault proxy');
    },
    get provider() {
      return started(provider, 'provider');
    },
    get driver() {
      return started(driver, 'CSI driver');
    },
    namespace,
    createSpc: (name, spec) => createSecretProviderClass(namespace, name, spec),
    async pod(name, spc) {
      const serviceAccountName = `${name}-sa`;
      await createServiceAccount(namespace, serviceAccountName, {
        [ROLE_ANNOTATION]: `arn:aws:iam::123456789012:role/${serviceAccountName}`,
      });
      return new KubeletPod(started(driver, 'CSI driver'), {
        namespace,
        name,
        serviceAccountName,
        secretProviderClass: spc,
        tokenAudiences: [IRSA_AUDIENCE, POD_IDENTITY_AUDIENCE],
      }).create();
    },
  };
}
