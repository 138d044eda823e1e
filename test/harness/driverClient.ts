import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type {
  MountRequestMessage,
  MountResponseMessage,
  VersionResponseMessage,
} from '../../src/server/proto.js';

/** Dials the provider exactly as the Secrets Store CSI driver does: Unix socket, authority localhost, 4 MiB. */
export interface DriverClient {
  version(): Promise<VersionResponseMessage>;
  mount(request: MountRequestMessage, timeoutMs?: number): Promise<MountResponseMessage>;
  close(): void;
}

type Unary<Req, Res> = (
  request: Req,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, response: Res) => void,
) => void;

interface RawClient extends grpc.Client {
  Version: Unary<{ version: string }, VersionResponseMessage>;
  Mount: Unary<MountRequestMessage, MountResponseMessage>;
}

const definition = protoLoader.loadSync(new URL('../../proto/v1alpha1/service.proto', import.meta.url).pathname, {
  keepCase: false,
  longs: String,
  defaults: true,
});
const { v1alpha1 } = grpc.loadPackageDefinition(definition) as unknown as {
  v1alpha1: { CSIDriverProvider: new (address: string, creds: grpc.ChannelCredentials, options: object) => RawClient };
};

export function connectDriverClient(socketPath: string): DriverClient {
  const raw = new v1alpha1.CSIDriverProvider(`unix://${socketPath}`, grpc.credentials.createInsecure(), {
    'grpc.default_authority': 'localhost',
    'grpc.max_receive_message_length': 4 * 1024 * 1024,
  });
  const call = <Req, Res>(method: Unary<Req, Res>, request: Req, timeoutMs: number) =>
    new Promise<Res>((resolve, reject) => {
      method.call(raw, request, { deadline: Date.now() + timeoutMs, waitForReady: true }, (err, response) =>
        err ? reject(err) : resolve(response),
      );
    });
  return {
    version: () => call(raw.Version, { version: 'v1alpha1' }, 10_000),
    mount: (request, timeoutMs = 90_000) => call(raw.Mount, request, timeoutMs),
    close: () => raw.close(),
  };
}
