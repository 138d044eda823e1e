import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export interface PluginRegistrar {
  /** Settles when kubelet has called NotifyRegistrationStatus; rejects with kubelet's error if it refused. */
  registered: Promise<void>;
  close(): void;
}

/**
 * Stands in for the CSI node-driver-registrar (github.com/kubernetes-csi/node-driver-registrar, whose module the Go
 * proxy does not serve): kubelet's plugin watcher finds this socket in <root-dir>/plugins_registry, asks GetInfo,
 * then talks CSI to `csiEndpoint` and reports back with NotifyRegistrationStatus. The API is kubelet's own proto
 * (k8s.io/kubelet pluginregistration/v1, from the module cache), so a change of it breaks this stand-in.
 */
export async function startPluginRegistrar(o: {
  /** api.proto of k8s.io/kubelet/pkg/apis/pluginregistration/v1. */
  proto: string;
  kubeletRootDir: string;
  driverName: string;
  csiEndpoint: string;
}): Promise<PluginRegistrar> {
  const definition = protoLoader.loadSync(o.proto, { keepCase: true });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    pluginregistration: { Registration: { service: grpc.ServiceDefinition } };
  };
  const dir = join(o.kubeletRootDir, 'plugins_registry');
  mkdirSync(dir, { recursive: true });
  const socket = join(dir, `${o.driverName}-reg.sock`);
  rmSync(socket, { force: true });
  let settle!: { resolve: () => void; reject: (err: Error) => void };
  const registered = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  const server = new grpc.Server();
  server.addService(pkg.pluginregistration.Registration.service, {
    GetInfo: (_call: unknown, callback: grpc.sendUnaryData<unknown>) =>
      callback(null, { type: 'CSIPlugin', name: o.driverName, endpoint: o.csiEndpoint, supported_versions: ['1.0.0'] }),
    NotifyRegistrationStatus: (
      call: grpc.ServerUnaryCall<{ plugin_registered: boolean; error: string }, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) => {
      if (call.request.plugin_registered) settle.resolve();
      else settle.reject(new Error(`kubelet refused to register ${o.driverName}: ${call.request.error}`));
      callback(null, {});
    },
  });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
  );
  return {
    registered,
    close() {
      server.forceShutdown();
      rmSync(socket, { force: true });
    },
  };
}
