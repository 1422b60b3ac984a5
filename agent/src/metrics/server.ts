// HTTP: /metrics for Prometheus, /health/live and /health/ready for the kubelet.
import { createServer, type Server } from 'node:http';
import type { Registry } from './prom.js';
import { renderMetrics } from './exposition.js';
import { TextWriter } from './text-writer.js';
import { close, listen } from './listen.js';

export interface Health {
  live(): boolean;
  ready(): boolean;
}

export class MetricsServer {
  private server: Server | undefined;
  /**
   * One buffer for every scrape that does not overlap another: at 100k pairs
   * the text is ~30 MB, which a buffer per scrape would allocate anew each time
   * and keep until the next GC (bench/ footprint).
   */
  private spare: TextWriter | undefined = new TextWriter();

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
        const w = this.spare ?? new TextWriter();
        this.spare = undefined;
        res.once('close', () => (this.spare = w));
        renderMetrics(this.registry, w).then(
          (body) => res.writeHead(200, { 'content-type': this.registry.contentType, 'content-length': body.length }).end(body),
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
    const bound = await listen(server, port, address);
    this.server = server;
    return bound;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await close(server);
  }
}
