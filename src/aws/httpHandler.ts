import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { FLAG_DEFAULTS } from '../config/flags.js';

export interface KeepAliveOptions {
  /** TCP + TLS connect limit per attempt (ms). Default 3000. */
  connectionTimeoutMs?: number;
  /** Whole request limit per attempt (ms); a breach is a TimeoutError the SDK retries. Default --aws-request-timeout's. */
  requestTimeoutMs?: number;
  /** Sockets per endpoint host. */
  maxSockets: number;
}

/** The SDK's Node.js handler on keep-alive agents: connections are reused across calls and bounded per host. */
export function keepAliveHandler(options: KeepAliveOptions): NodeHttpHandler {
  return new NodeHttpHandler({
    connectionTimeout: options.connectionTimeoutMs ?? 3000,
    requestTimeout: options.requestTimeoutMs ?? FLAG_DEFAULTS.awsRequestTimeoutMs,
    throwOnRequestTimeout: true,
    httpAgent: new HttpAgent({ keepAlive: true, maxSockets: options.maxSockets }),
    httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: options.maxSockets }),
  });
}
