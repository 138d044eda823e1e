import { lstat, mkdir, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { asProviderError } from '../errors.js';
import { MountGate, type MountGateOptions } from './mountGate.js';
import {
  loadProviderService,
  type MountRequestMessage,
  type MountResponseMessage,
  type VersionResponseMessage,
} from './proto.js';
import { toStatus } from './status.js';

/** `waitedMs`: how much of the Mount's deadline went by before the handler was called (see MountGate). */
export type MountHandler = (
  request: MountRequestMessage,
  signal: AbortSignal,
  waitedMs: number,
) => Promise<MountResponseMessage>;

export interface ConnectionLimits {
  /** A connection with no call for this long is closed (the driver dials again on its next call). */
  idleMs: number;
  /** Calls one connection may have open at once; the driver queues the rest on its side. */
  maxStreams: number;
}

export interface ProviderServerOptions {
  mount: MountHandler;
  version: VersionResponseMessage;
  limits: MountGateOptions;
  connections: ConnectionLimits;
}

/**
 * The driver sends every Mount of the node over one connection, and queues calls beyond this on its side. Each call
 * open here may hold up to one HTTP/2 window (64 KiB) of its unread request while it waits for its turn.
 */
export const MAX_STREAMS_PER_CONNECTION = 256;

/** The server pings a connection this often and closes it if no answer comes within KEEPALIVE_TIMEOUT_MS. */
const KEEPALIVE_TIME_MS = 30_000;
const KEEPALIVE_TIMEOUT_MS = 10_000;

export class ProviderServer {
  private readonly server: grpc.Server;
  private readonly gate: MountGate;
  private readonly inFlight = new Set<AbortController>();
  private socketPath: string | undefined;

  constructor(private readonly options: ProviderServerOptions) {
    this.gate = new MountGate(options.limits);
    this.server = new grpc.Server({
      // A MountRequest is a few KiB of attributes and tokens. A SecretProviderClass is at most etcd's 1.5 MiB, and the
      // driver JSON-escapes it into the attributes (a newline takes two bytes there): such a request must still be read,
      // so that the objects' own size limit can name what is too large.
      'grpc.max_receive_message_length': options.limits.maxRequestBytes,
      // Answers are not capped here: the Mount checks its answer against the driver's limit (--max-answer-size).
      // Channelz keeps per-call statistics for a debugging service this server does not offer; on a storm of Mounts
      // that bookkeeping was ~50 µs of CPU per call.
      'grpc.enable_channelz': 0,
      // A connection that sends nothing, or stops answering pings, is closed: each held its socket and HTTP/2
      // session for as long as the client liked. grpc-js has no cap on the number of connections.
      'grpc.max_connection_idle_ms': options.connections.idleMs,
      'grpc.keepalive_time_ms': KEEPALIVE_TIME_MS,
      'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
      'grpc.max_concurrent_streams': options.connections.maxStreams,
      interceptors: [this.gate.interceptor],
    });
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
      .mount(call.request, controller.signal, this.gate.waitedMs(call.metadata))
      .then(
        (response) => callback(null, response),
        (err: unknown) => callback(toStatus(asProviderError(err))),
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
