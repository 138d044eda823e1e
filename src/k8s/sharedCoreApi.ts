import type { CoreApi } from './coreApi.js';

/**
 * One Kubernetes client for every reader (ServiceAccount lookups, the issuer's keys), so they share its
 * keep-alive connection: loaded on first use, and loaded again by the next caller when loading failed.
 */
export function sharedCoreApi(load: () => Promise<CoreApi>): () => Promise<CoreApi> {
  let api: Promise<CoreApi> | undefined;
  return () =>
    (api ??= load().catch((err: unknown) => {
      api = undefined;
      throw err;
    }));
}
