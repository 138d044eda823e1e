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
 */
export function createSocketProbe(socketPath: string, timeoutMs: number): { probe(): Promise<boolean>; close(): void } {
  const Client = grpc.makeGenericClientConstructor(loadProviderService(), 'CSIDriverProvider');
  const client = new Client(`unix://${socketPath}`, grpc.credentials.createInsecure(), {
    'grpc.default_authority': 'localhost',
  }) as unknown as grpc.Client & { Version: VersionCall };
  return {
    probe: () =>
      new Promise((resolve) => {
        client.Version({ version: 'v1alpha1' }, { deadline: Date.now() + timeoutMs }, (err) => resolve(!err));
      }),
    close: () => client.close(),
  };
}
