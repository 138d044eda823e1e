import { lstat, mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { asProviderError, type ProviderError } from '../errors.js';
import {
  loadProviderService,
  type MountRequestMessage,
  type MountResponseMessage,
  type VersionResponseMessage,
} from './proto.js';

export type MountHandler = (request: MountRequestMessage, signal: AbortSignal) => Promise<MountResponseMessage>;

export interface ProviderServerOptions {
  mount: MountHandler;
  version: VersionResponseMessage;
}

/** Metadata key carrying our error code beside the status, for clients that want it without parsing. */
export const ERROR_CODE_METADATA = 'x-provider-error-code';

export class ProviderServer {
  private readonly server = new grpc.Server({
    // A MountRequest is a few KiB of attributes; anything near this is not the driver. Answers are not capped
    // here: the driver's own --max-call-recv-msg-size decides how large a Mount it takes.
    'grpc.max_receive_message_length': 4 * 1024 * 1024,
    // Channelz keeps per-call statistics for a debugging service this server does not offer; on a storm of Mounts
    // that bookkeeping was ~50 µs of CPU per call.
    'grpc.enable_channelz': 0,
  });
  private readonly inFlight = new Set<AbortController>();
  private socketPath: string | undefined;

  constructor(private readonly options: ProviderServerOptions) {
    this.server.addService(encodingSharedResponsesOnce(loadProviderService()), {
      Version: this.version.bind(this),
      Mount: this.mount.bind(this),
    });
  }

  get inFlightMounts(): number {
    return this.inFlight.size;
  }

  /** Binds the Unix socket, replacing a stale one left by a previous run. */
  async listen(socketPath: string): Promise<void> {
    await mkdir(dirname(socketPath), { recursive: true });
    await removeStaleSocket(socketPath);
    await new Promise<void>((resolve, reject) => {
      this.server.bindAsync(`unix://${socketPath}`, grpc.ServerCredentials.createInsecure(), (err) =>
        err ? reject(err) : resolve(),
      );
    });
    this.socketPath = socketPath;
  }

  /**
   * Stops taking new calls and lets in-flight Mounts finish for up to `graceMs`; what is still running then
   * is cancelled. The socket file is removed so the driver does not dial a dead provider.
   */
  async close(graceMs: number): Promise<void> {
    const drained = new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), graceMs);
    });
    if ((await Promise.race([drained, timedOut])) === 'timeout') {
      for (const controller of this.inFlight) controller.abort(new Error('provider is shutting down'));
      this.server.forceShutdown();
    }
    clearTimeout(timer);
    if (this.socketPath) await rm(this.socketPath, { force: true });
  }

  private version(
    _call: grpc.ServerUnaryCall<unknown, VersionResponseMessage>,
    callback: grpc.sendUnaryData<VersionResponseMessage>,
  ): void {
    callback(null, this.options.version);
  }

  private mount(
    call: grpc.ServerUnaryCall<MountRequestMessage, MountResponseMessage>,
    callback: grpc.sendUnaryData<MountResponseMessage>,
  ): void {
    const controller = new AbortController();
    this.inFlight.add(controller);
    call.on('cancelled', () => controller.abort(new Error('the driver cancelled the Mount')));
    this.options
      .mount(call.request, controller.signal)
      .then(
        (response) => callback(null, response),
        (err: unknown) => callback(toServiceError(asProviderError(err))),
      )
      .finally(() => this.inFlight.delete(controller));
  }
}

/**
 * Mounts that shared one fetch (see mount.ts) answer with the same response object: it is encoded once, not once
 * per pod. grpc-js copies the bytes into each call's frame, so one buffer serves every call.
 */
function encodingSharedResponsesOnce(service: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const mount = service.Mount as grpc.MethodDefinition<MountRequestMessage, MountResponseMessage>;
  const encoded = new WeakMap<MountResponseMessage, Buffer>();
  const responseSerialize = (response: MountResponseMessage): Buffer => {
    let bytes = encoded.get(response);
    if (bytes === undefined) encoded.set(response, (bytes = mount.responseSerialize(response)));
    return bytes;
  };
  return { ...service, Mount: { ...mount, responseSerialize } };
}

function toServiceError(error: ProviderError): Partial<grpc.StatusObject> {
  const metadata = new grpc.Metadata();
  metadata.set(ERROR_CODE_METADATA, error.code);
  // The driver shows only the status message in pod events and metrics label it GRPCProviderError:
  // leading with our code makes the cause greppable there too.
  return { code: error.grpcStatus, details: `${error.code}: ${error.message}`, metadata };
}

async function removeStaleSocket(socketPath: string): Promise<void> {
  const existing = await lstat(socketPath).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!existing) return;
  if (!existing.isSocket()) {
    throw new Error(`${socketPath} exists and is not a socket; refusing to replace it`);
  }
  await rm(socketPath);
}
