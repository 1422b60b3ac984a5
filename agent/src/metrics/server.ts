// HTTP: /metrics for Prometheus, /health/live and /health/ready for the kubelet.
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Registry } from 'prom-client';
import { renderMetrics } from './exposition.js';

export interface Health {
  live(): boolean;
  ready(): boolean;
}

export class MetricsServer {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly registry: Registry,
    private readonly health: Health,
    private readonly onError: (err: unknown) => void,
  ) {}

  async start(port: number, address: string): Promise<number> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      if (path === '/metrics') {
        renderMetrics(this.registry).then(
          (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
          (err) => {
            this.onError(err);
            res.writeHead(500).end('metrics rendering failed\n');
          },
        );
      } else if (path === '/health/live') {
        const ok = this.health.live();
        res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'not live\n');
      } else if (path === '/health/ready') {
        const ok = this.health.ready();
        res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ready\n' : 'not ready\n');
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /health/live, /health/ready\n');
      }
    });
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, address, () => resolve());
    });
    this.server = server;
    const bound = server.address();
    return typeof bound === 'object' && bound ? bound.port : port;
  }

  /** Closes kept-alive sockets first so close() does not wait on them. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
