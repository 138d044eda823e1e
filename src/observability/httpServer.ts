import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface ObservabilityServerOptions {
  registry: Registry;
  /** Readiness: true while the provider's socket answers. */
  isReady: () => Promise<boolean>;
}

/**
 * /metrics (Prometheus text), /healthz (liveness: answering at all proves the process and its event loop are
 * alive) and /readyz (readiness: the provider socket answers a Version call).
 */
export class ObservabilityServer {
  private readonly server: Server;

  constructor(options: ObservabilityServerOptions) {
    this.server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET, HEAD' }).end();
        return;
      }
      if (path === '/healthz') {
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok\n');
      } else if (path === '/readyz') {
        void options.isReady().then((ready) => {
          res.writeHead(ready ? 200 : 503, { 'Content-Type': 'text/plain' }).end(ready ? 'ok\n' : 'socket not answering\n');
        });
      } else if (path === '/metrics') {
        void options.registry.metrics().then(
          (text) => res.writeHead(200, { 'Content-Type': options.registry.contentType }).end(text),
          () => res.writeHead(500).end(),
        );
      } else {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: try /metrics, /healthz or /readyz\n');
      }
    });
  }

  async listen(host: string, port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
