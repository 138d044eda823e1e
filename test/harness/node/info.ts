import { inject } from 'vitest';

/**
 * What the node project's globalSetup started beyond the peers every project has (`usePeers()`: moto, the
 * apiserver, logs), as every test file of test/node sees it.
 */
export interface NodeInfo {
  nodeName: string;
  images: {
    /** The provider's image, imported into containerd: localhost/aws-secrets-csi-provider:<package version>. */
    provider: string;
    /** Its OCI layout, for the test that compares it with the Dockerfile. */
    providerLayout: string;
    /** busybox for test pods: a shell, cat, sleep. */
    busybox: string;
  };
  /** The Node.js release the image ships (the peers' node-linux-<arch>). */
  imageNode: string;
  /** Host directory of aws.sock: the driver's --provider-volume, the chart's providerVolume. */
  providerVolume: string;
  /** Where a test file starts its fault proxy: the provider's AWS_ENDPOINT_URL. */
  faultProxyPort: number;
  /** The driver's --rotation-poll-interval in seconds. */
  rotationPollSeconds: number;
  /** kubelet's, containerd's and the driver's pids, and containerd's socket (which its shims name). */
  processes: { pids: number[]; containerdSocket: string };
}

declare module 'vitest' {
  export interface ProvidedContext {
    node: NodeInfo;
  }
}

export function useNode(): NodeInfo {
  return inject('node');
}
