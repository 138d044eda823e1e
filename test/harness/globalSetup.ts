import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import type { PeersInfo } from './peers.js';
import { startEtcd } from './start/etcd.js';
import { locatePeers } from './start/installEnv.js';
import { startKubeApiserver } from './start/kubeApiserver.js';
import { startMoto } from './start/moto.js';
import { stopAllPeers } from './start/process.js';

/** Starts moto, etcd and kube-apiserver on loopback for the integration project, and stops them afterwards. */
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
    const info: PeersInfo = {
      motoUrl: moto.url,
      etcdUrl: etcd.url,
      kube: { server: kube.server, token: kube.token, caFile: kube.caFile, kubeconfigPath: kube.kubeconfigPath },
      runDir,
      logDir,
      logs: Object.fromEntries([moto, etcd, kube].map(({ process }) => [process.name, process.logFile])),
      binaries: {
        motoServer: binaries.motoServer,
        etcd: binaries.etcd,
        kubeApiserver: binaries.kubeApiserver,
        csiDriver: binaries.csiDriver,
        helm: binaries.helm,
      },
      gomodcache: binaries.gomodcache,
    };
    project.provide('peers', info);
    console.log(
      `[peers] moto ${moto.url}, etcd ${etcd.url}, kube-apiserver ${kube.server}: ready in ${Date.now() - started} ms`,
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
