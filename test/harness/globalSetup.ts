import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { TestProject } from 'vitest/node';
import { installDriverCrds } from './csi/crds.js';
import { locateDriverModuleFiles } from './csi/moduleCache.js';
import type { PeersInfo } from './peers.js';
import { startEtcd } from './start/etcd.js';
import { locatePeers } from './start/installEnv.js';
import { startKubeApiserver } from './start/kubeApiserver.js';
import { startKubeControllerManager } from './start/kubeControllerManager.js';
import { startMoto } from './start/moto.js';
import { stopAllPeers } from './start/process.js';

/**
 * Starts moto, etcd, kube-apiserver (with the CSI driver's CRDs) and kube-controller-manager (its garbage collector
 * only) on loopback for the integration and e2e projects, and stops them afterwards.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const binaries = await locatePeers();
  const runDir = mkdtempSync(join(tmpdir(), 'aws-secrets-csi-provider-peers-'));
  const logDir = join(runDir, 'logs');
  mkdirSync(logDir);
  const teardown = async () => {
    await stopAllPeers();
    rmSync(runDir, { recursive: true, force: true });
  };
  try {
    const [moto, etcd] = await settleAll([startMoto(binaries.motoServer, logDir), startEtcd(binaries.etcd, runDir, logDir)]);
    const kube = await startKubeApiserver(binaries.kubeApiserver, etcd.url, runDir, logDir);
    // The driver's CRDs go in before the controller-manager starts: its garbage collector watches the resources
    // it found at start and rediscovers them only every 30 s, so pod statuses are collected from the first test on.
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kube.kubeconfigPath);
    await installDriverCrds(kubeConfig, locateDriverModuleFiles(binaries.gomodcache, binaries.csiDriver).crdFiles);
    const controllerManager = await startKubeControllerManager(binaries.kubeControllerManager, kube, runDir, logDir);
    const info: PeersInfo = {
      motoUrl: moto.url,
      etcdUrl: etcd.url,
      kube: { server: kube.server, token: kube.token, caFile: kube.caFile, kubeconfigPath: kube.kubeconfigPath },
      runDir,
      logDir,
      logs: Object.fromEntries([moto, etcd, kube, controllerManager].map(({ process }) => [process.name, process.logFile])),
      binaries: (({ gomodcache: _, ...programs }) => programs)(binaries),
      gomodcache: binaries.gomodcache,
    };
    project.provide('peers', info);
    console.log(
      `[peers] moto ${moto.url}, etcd ${etcd.url}, kube-apiserver ${kube.server}, ` +
        `kube-controller-manager ${controllerManager.server}: ready in ${Date.now() - started} ms`,
    );
    return teardown;
  } catch (err) {
    await teardown();
    throw err;
  }
}

/** Like Promise.all, but waits for every start to settle so that teardown sees every process that was spawned. */
async function settleAll<T extends unknown[]>(starts: [...{ [K in keyof T]: Promise<T[K]> }]): Promise<T> {
  const results = await Promise.allSettled(starts);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as T;
}
