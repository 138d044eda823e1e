import { connect, type ClientHttp2Session } from 'node:http2';
import { connect as connectSocket } from 'node:net';
import { status } from '@grpc/grpc-js';
import { loadProviderService, type MountRequestMessage, type MountResponseMessage } from '../../src/server/proto.js';

/**
 * The bench's Mount client: gRPC over HTTP/2 on the provider's Unix socket, as the driver dials it, with each request
 * encoded before the clock starts and each answer decoded after it stops.
 *
 * Why not grpc-js's client, which the tests use: it costs about 0.2 ms of CPU per call (channel, interceptors, retry
 * buffering, deadline, metadata). Starting a storm of 100 calls took about 20 ms of the load generator's one thread,
 * and decoding 100 answers about 5 ms more, and all of it landed in every pod's latency: a third of the S2 figure
 * was the instrument. The driver's Go client does the same work in a fraction of that. The messages are still
 * encoded and decoded by proto-loader from our proto, and every answer is decoded and checked once timed.
 */
export class MountClient {
  private readonly method = loadProviderService().Mount!;

  private constructor(private readonly session: ClientHttp2Session) {}

  static async connect(socketPath: string): Promise<MountClient> {
    const session = connect('http://localhost', { createConnection: () => connectSocket(socketPath) });
    await new Promise<void>((resolve, reject) => {
      session.once('remoteSettings', () => resolve());
      session.once('error', reject);
    });
    // The bench's own timers keep the process alive; an idle session should not.
    session.unref();
    return new MountClient(session);
  }

  /** The request as one gRPC length-prefixed message: flag 0 (uncompressed), 4-byte length, the protobuf. */
  encode(request: MountRequestMessage): Buffer {
    const message = this.method.requestSerialize(request);
    const frame = Buffer.allocUnsafe(5 + message.length);
    frame.writeUInt8(0, 0);
    frame.writeUInt32BE(message.length, 1);
    message.copy(frame, 5);
    return frame;
  }

  /**
   * One Mount: resolves when the answer and its trailers are in, with the time taken and a decoder for the answer;
   * rejects with the status name and message the provider sent.
   */
  mount(frame: Buffer, timeoutMs: number): Promise<{ elapsedMs: number; response: () => MountResponseMessage }> {
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const stream = this.session.request({
        ':method': 'POST',
        ':path': this.method.path,
        'content-type': 'application/grpc',
        te: 'trailers',
        'grpc-timeout': `${timeoutMs}m`,
      });
      const chunks: Buffer[] = [];
      let code: number | undefined;
      let message = '';
      const readStatus = (headers: Record<string, unknown>) => {
        if (headers['grpc-status'] === undefined) return;
        code = Number(headers['grpc-status']);
        message = decodeURIComponent(String(headers['grpc-message'] ?? ''));
      };
      stream.on('response', readStatus);
      stream.on('trailers', readStatus);
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', reject);
      stream.on('close', () => {
        const elapsedMs = performance.now() - started;
        if (code !== status.OK) {
          reject(new Error(`${code === undefined ? 'no grpc-status' : status[code]}: ${message}`));
          return;
        }
        resolve({ elapsedMs, response: () => this.decode(Buffer.concat(chunks)) });
      });
      stream.end(frame);
    });
  }

  close(): void {
    this.session.close();
  }

  private decode(body: Buffer): MountResponseMessage {
    if (body.length < 5 || body.readUInt8(0) !== 0 || body.readUInt32BE(1) !== body.length - 5) {
      throw new Error(`the answer is not one uncompressed gRPC message (${body.length} bytes)`);
    }
    return this.method.responseDeserialize(body.subarray(5)) as MountResponseMessage;
  }
}
