import { inject } from 'vitest';
import type { PeerBinaries } from './start/installEnv.js';

/** What the integration project's globalSetup started, as every test file sees it. */
export interface PeersInfo {
  /** moto_server on loopback; the region of a call comes from its SigV4 scope. */
  motoUrl: string;
  etcdUrl: string;
  kube: {
    /** https://127.0.0.1:PORT */
    server: string;
    /** Bearer token of a system:masters user. */
    token: string;
    caFile: string;
    /** Admin kubeconfig for `server`, CA file and token. */
    kubeconfigPath: string;
  };
  /** Temporary directory of this run (pki, etcd data, kubeconfig, logs); removed at teardown. */
  runDir: string;
  logDir: string;
  /** Peer name → its log file (stdout and stderr). */
  logs: Record<string, string>;
  binaries: Omit<PeerBinaries, 'gomodcache'>;
  /** Go module cache of the installer: holds the CSI driver's CRDs and the CSI spec proto. */
  gomodcache: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    peers: PeersInfo;
  }
}

export function usePeers(): PeersInfo {
  return inject('peers');
}
