import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** What kubelet sends in NodePublishVolume (CSI spec field names). */
export interface NodePublishVolumeRequest {
  volume_id: string;
  target_path: string;
  readonly: boolean;
  volume_capability: {
    mount: { fs_type: string; mount_flags: string[] };
    access_mode: { mode: 'SINGLE_NODE_WRITER' | 'SINGLE_NODE_READER_ONLY' };
  };
  volume_context: Record<string, string>;
  secrets?: Record<string, string>;
}

export interface NodeUnpublishVolumeRequest {
  volume_id: string;
  target_path: string;
}

/** A CSI node-plugin client over the driver's Unix socket, as kubelet dials it. */
export interface CsiClient {
  probe(): Promise<unknown>;
  getPluginInfo(): Promise<{ name: string; vendor_version: string }>;
  nodeGetInfo(): Promise<{ node_id: string }>;
  nodePublishVolume(request: NodePublishVolumeRequest, timeoutMs?: number): Promise<void>;
  nodeUnpublishVolume(request: NodeUnpublishVolumeRequest, timeoutMs?: number): Promise<void>;
  close(): void;
}

type Unary = (
  request: unknown,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, response: unknown) => void,
) => void;
type ServiceClient = grpc.Client & Record<string, Unary>;
type ServiceConstructor = new (address: string, creds: grpc.ChannelCredentials, options?: object) => ServiceClient;

/** Loads csi.proto from the Go module cache (the version the driver was built with) and dials socketPath. */
export function connectCsiClient(csiProto: string, socketPath: string): CsiClient {
  const definition = protoLoader.loadSync(csiProto, {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const { csi } = grpc.loadPackageDefinition(definition) as unknown as {
    csi: { v1: { Identity: ServiceConstructor; Node: ServiceConstructor } };
  };
  const address = `unix://${socketPath}`;
  const identity = new csi.v1.Identity(address, grpc.credentials.createInsecure());
  const node = new csi.v1.Node(address, grpc.credentials.createInsecure());
  const call = <Res>(client: ServiceClient, method: string, request: unknown, timeoutMs: number) =>
    new Promise<Res>((resolve, reject) => {
      const fn = client[method];
      if (!fn) throw new Error(`csi.proto has no method ${method}`);
      fn.call(client, request, { deadline: Date.now() + timeoutMs }, (err, response) =>
        err ? reject(err) : resolve(response as Res),
      );
    });
  return {
    probe: () => call(identity, 'Probe', {}, 5_000),
    getPluginInfo: () => call(identity, 'GetPluginInfo', {}, 5_000),
    nodeGetInfo: () => call(node, 'NodeGetInfo', {}, 5_000),
    // Kubelet gives a NodePublishVolume 2 minutes.
    nodePublishVolume: async (request, timeoutMs = 120_000) => {
      await call(node, 'NodePublishVolume', request, timeoutMs);
    },
    nodeUnpublishVolume: async (request, timeoutMs = 30_000) => {
      await call(node, 'NodeUnpublishVolume', request, timeoutMs);
    },
    close: () => {
      identity.close();
      node.close();
    },
  };
}
