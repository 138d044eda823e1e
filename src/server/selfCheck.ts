import * as grpc from '@grpc/grpc-js';
import { loadProviderService } from './proto.js';

type VersionCall = (
  request: { version: string },
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null) => void,
) => void;

/**
 * Asks our own socket for its Version, as the driver would dial it: the honest readiness signal, since a
 * provider whose socket does not answer is of no use to the driver whatever else is alive.
 *
 * Each probe dials the path afresh, on a connection of its own: a kept connection would go on answering after
 * the socket file was deleted or taken over, while the driver, which dials the path, could no longer reach us.
 */
export function createSocketProbe(socketPath: string, timeoutMs: number): { probe(): Promise<boolean>; close(): void } {
  const Client = grpc.makeGenericClientConstructor(loadProviderService(), 'CSIDriverProvider');
  return {
    probe: () =>
      new Promise((resolve) => {
        const client = new Client(`unix://${socketPath}`, grpc.credentials.createInsecure(), {
          'grpc.default_authority': 'localhost',
          // grpc-js shares connections between clients of one target unless told not to.
          'grpc.use_local_subchannel_pool': 1,
        }) as unknown as grpc.Client & { Version: VersionCall };
        client.Version({ version: 'v1alpha1' }, { deadline: Date.now() + timeoutMs }, (err) => {
          client.close();
          resolve(!err);
        });
      }),
    close: () => undefined,
  };
}
