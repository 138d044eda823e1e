import { Agent as HttpAgent, type AgentOptions, type ClientRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Duplex } from 'node:stream';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent as RoutingAgent, type AgentConnectOpts } from 'agent-base';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { getProxyForUrl } from 'proxy-from-env';
import { FLAG_DEFAULTS } from '../config/flags.js';

export interface KeepAliveOptions {
  /** TCP + TLS connect limit per attempt (ms). Default 3000. */
  connectionTimeoutMs?: number;
  /** Whole request limit per attempt (ms); a breach is a TimeoutError the SDK retries. Default --aws-request-timeout's. */
  requestTimeoutMs?: number;
  /** Sockets per endpoint host. */
  maxSockets: number;
}

/**
 * The SDK's Node.js handler on keep-alive agents: connections are reused across calls and bounded per host. The AWS
 * and STS clients alone are built on it, so they alone honour HTTPS_PROXY / HTTP_PROXY / NO_PROXY: the Pod Identity
 * agent (a link-local address on the node) and the Kubernetes API (in-cluster) are reached directly (docs/tools.md).
 */
export function keepAliveHandler(options: KeepAliveOptions): NodeHttpHandler {
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets };
  return new NodeHttpHandler({
    connectionTimeout: options.connectionTimeoutMs ?? 3000,
    requestTimeout: options.requestTimeoutMs ?? FLAG_DEFAULTS.awsRequestTimeoutMs,
    throwOnRequestTimeout: true,
    httpAgent: new ProxyRouter(false, new HttpAgent(agentOptions), agentOptions),
    httpsAgent: new ProxyRouter(true, new HttpsAgent(agentOptions), agentOptions),
  });
}

/**
 * Each request goes direct, through `direct`, or through a CONNECT tunnel to the proxy that proxy-from-env reads
 * from the environment for its URL (NO_PROXY honoured), for plain HTTP endpoints too: one path for every endpoint,
 * and a refusal is the proxy's answer to CONNECT, told apart from an answer of AWS. Tunnels are pooled here as
 * keep-alive sockets, by endpoint, like the direct ones.
 */
class ProxyRouter extends RoutingAgent {
  private readonly tunnels = new Map<string, HttpsProxyAgent<string>>();

  constructor(
    private readonly secure: boolean,
    private readonly direct: HttpAgent,
    options: AgentOptions,
  ) {
    super(options);
  }

  /** The SDK's handler closes its agents at shutdown: the direct one's sockets and the tunnels' go too. */
  override destroy(): void {
    super.destroy();
    this.direct.destroy();
    for (const tunnel of this.tunnels.values()) tunnel.destroy();
  }

  override isSecureEndpoint(): boolean {
    return this.secure;
  }

  override async connect(req: ClientRequest, opts: AgentConnectOpts): Promise<Duplex | HttpAgent> {
    const scheme = this.secure ? 'https' : 'http';
    const host = opts.host?.includes(':') ? `[${opts.host}]` : (opts.host ?? 'localhost');
    const proxy = getProxyForUrl(`${scheme}://${host}:${opts.port}${req.path}`);
    if (!proxy) return this.direct;
    const named = `the proxy ${shownProxy(proxy)} (${scheme.toUpperCase()}_PROXY)`;
    let tunnel = this.tunnels.get(proxy);
    if (!tunnel) this.tunnels.set(proxy, (tunnel = new HttpsProxyAgent(proxy)));
    let answer: IncomingMessage | undefined;
    req.once('proxyConnect', (connect: IncomingMessage) => (answer = connect));
    let socket: Duplex;
    try {
      socket = await tunnel.connect(req, opts);
    } catch (err) {
      throw proxyFailure(`${named} could not be reached: ${(err as Error).message}`, err);
    }
    if (answer?.statusCode !== 200) {
      socket.destroy();
      const status = answer ? `HTTP ${answer.statusCode} ${answer.statusMessage ?? ''}`.trim() : 'no answer';
      throw proxyFailure(`${named} refused the tunnel to ${host}:${opts.port} (${status})`);
    }
    return socket;
  }
}

/** A network failure (so retried, and failed over, like one): the message names the proxy, never its credentials. */
function proxyFailure(message: string, cause?: unknown): Error {
  return Object.assign(new Error(message, { cause }), { code: 'ECONNREFUSED' });
}

function shownProxy(proxy: string): string {
  try {
    const url = new URL(proxy);
    return `${url.protocol}//${url.host}`;
  } catch {
    return 'named there (not a URL)';
  }
}
