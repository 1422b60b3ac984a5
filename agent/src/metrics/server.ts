// HTTP: /metrics for Prometheus, /health/live and /health/ready for the kubelet.
import { createServer, type Server, type ServerResponse } from 'node:http';
import { CONTENT_TYPE, streamMetrics, type MetricsSource } from './exposition.js';
import { TextWriter } from './text-writer.js';
import { close, listen } from './listen.js';

const CHUNK_BYTES = 1024 * 1024;

export interface Health {
  live(): boolean;
  ready(): boolean;
}

export class MetricsServer {
  private server: Server | undefined;
  /** One chunk buffer for every scrape that does not overlap another. */
  private spare: TextWriter | undefined;

  constructor(
    private readonly metrics: MetricsSource,
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
        void this.serveMetrics(res);
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

  /**
   * Streamed in 1 MiB chunks, each written before the next is rendered: at
   * 100k pairs the text is ~30 MiB, which a whole-body buffer kept resident
   * (bench/ footprint). Chunked transfer encoding; a failure after the first
   * chunk cuts the connection so the scrape fails rather than looks short.
   */
  private async serveMetrics(res: ServerResponse): Promise<void> {
    const w = this.spare ?? new TextWriter(CHUNK_BYTES + 64 * 1024);
    this.spare = undefined;
    try {
      await streamMetrics(this.metrics, w, (chunk) => {
        if (!res.headersSent) res.writeHead(200, { 'content-type': CONTENT_TYPE });
        return new Promise<void>((resolve, reject) => res.write(chunk, (err) => (err ? reject(err) : resolve())));
      }, CHUNK_BYTES);
      res.end();
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
      } else {
        this.onError(err);
        res.writeHead(500).end('metrics rendering failed\n');
      }
    } finally {
      this.spare = w;
    }
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await close(server);
  }
}
