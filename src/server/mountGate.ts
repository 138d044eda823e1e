import * as grpc from '@grpc/grpc-js';
import { ProviderError } from '../errors.js';
import { Admission, type Ticket } from './admission.js';
import type { MountRequestMessage } from './proto.js';
import { toStatus } from './status.js';

export const MOUNT_PATH = '/v1alpha1.CSIDriverProvider/Mount';

export interface MountGateOptions {
  /** Mounts running at once (--max-concurrent-mounts). */
  maxConcurrent: number;
  /** Request bytes among the running Mounts (--max-mount-bytes). */
  maxBytes: number;
  /** The largest request the server reads (--max-request-size): what an unread request is charged. */
  maxRequestBytes: number;
  /** The Mount deadline (--mount-timeout): waiting for a turn and for the request count against it. */
  timeoutMs: number;
  onDepth?: (waiting: number) => void;
  /** How long an admitted Mount waited for its turn. */
  onAdmitted?: (waitedSeconds: number) => void;
  /** A Mount that ran out of time before its handler started: no handler ever sees it. */
  onExpired?: (error: ProviderError) => void;
}

/**
 * Holds each Mount's request on the socket until the Mount may run (see Admission), as a grpc-js server interceptor:
 * grpc-js reads a request only when the call asks for it (startRead), so the wait costs no memory here. The handler
 * learns how long a Mount waited through `waitedMs`, to keep one deadline from arrival to answer.
 */
export class MountGate {
  private readonly admission: Admission;
  /** Keyed by the call's metadata object: grpc-js hands the very same object to the method handler. */
  private readonly arrivals = new WeakMap<grpc.Metadata, number>();

  constructor(private readonly options: MountGateOptions) {
    this.admission = new Admission({
      maxConcurrent: options.maxConcurrent,
      maxBytes: options.maxBytes,
      unreadBytes: options.maxRequestBytes,
      ...(options.onDepth && { onDepth: options.onDepth }),
    });
  }

  /** Milliseconds between the Mount's arrival and now. */
  waitedMs(metadata: grpc.Metadata): number {
    const arrived = this.arrivals.get(metadata);
    return arrived === undefined ? 0 : performance.now() - arrived;
  }

  readonly interceptor: grpc.ServerInterceptor = (method, next) => {
    if (method.path !== MOUNT_PATH) return new grpc.ServerInterceptingCall(next);
    const arrived = performance.now();
    const waiting = new AbortController();
    let ticket: Ticket | undefined;
    const timer = setTimeout(() => waiting.abort(this.expired(ticket === undefined, arrived)), this.options.timeoutMs);
    const release = () => {
      clearTimeout(timer);
      ticket?.release();
    };
    const responder: grpc.Responder = {
      sendStatus: (statusObject, forward) => {
        release();
        forward(statusObject);
      },
    };
    const listener: grpc.ServerListener = {
      onReceiveMetadata: (metadata, forward) => {
        this.arrivals.set(metadata, arrived);
        forward(metadata);
      },
      onReceiveMessage: (message: MountRequestMessage, forward) => {
        ticket?.resize(requestBytes(message));
        forward(message);
      },
      onReceiveHalfClose: (forward) => {
        // The handler starts now and keeps the rest of the deadline; the ticket stays until the answer is sent.
        clearTimeout(timer);
        forward();
      },
      onCancel: () => {
        release();
        waiting.abort(new Error('the driver cancelled the Mount'));
      },
    };
    const call = new GatedCall(next, { ...responder, start: (forward) => forward(listener) }, (read) => {
      this.admission.enter(waiting.signal).then(
        (admitted) => {
          // The deadline passed (and the status went out) between the admission and this callback.
          if (waiting.signal.aborted) return admitted.release();
          ticket = admitted;
          this.options.onAdmitted?.((performance.now() - arrived) / 1000);
          read();
        },
        () => undefined,
      );
    });
    waiting.signal.addEventListener('abort', () => {
      const reason: unknown = waiting.signal.reason;
      // Only the deadline needs an answer here: a cancelled call has none to send.
      if (!(reason instanceof ProviderError)) return;
      release();
      this.options.onExpired?.(reason);
      next.sendStatus(toStatus(reason));
    });
    return call;
  };

  private expired(queued: boolean, arrived: number): ProviderError {
    const waited = Math.round(performance.now() - arrived);
    const message = queued
      ? `the Mount waited ${waited} ms for its turn and did not start within the ${this.options.timeoutMs} ms ` +
        `deadline (--mount-timeout): at most ${this.options.maxConcurrent} Mounts run at once (--max-concurrent-mounts, ` +
        `--max-mount-bytes) and ${this.admission.queued} more are waiting; the node's provider is overloaded`
      : `the Mount request did not arrive in full within the ${this.options.timeoutMs} ms deadline ` +
        '(--mount-timeout); the client stopped sending it';
    return new ProviderError('DeadlineExceeded', message);
  }
}

/** Asks `beforeFirstRead` before reading the request; the second read (the half-close) goes straight on. */
class GatedCall extends grpc.ServerInterceptingCall {
  private firstRead = true;

  constructor(
    next: grpc.ServerInterceptingCallInterface,
    responder: grpc.Responder,
    private readonly beforeFirstRead: (read: () => void) => void,
  ) {
    super(next, responder);
  }

  override startRead(): void {
    if (!this.firstRead) return super.startRead();
    this.firstRead = false;
    this.beforeFirstRead(() => super.startRead());
  }
}

/** What a request costs while its Mount runs: its strings, as the decoded message holds them. */
function requestBytes(message: MountRequestMessage): number {
  let bytes = message.attributes.length + message.secrets.length + message.targetPath.length + message.permission.length;
  for (const version of message.currentObjectVersion) bytes += version.id.length + version.version.length;
  return bytes;
}
