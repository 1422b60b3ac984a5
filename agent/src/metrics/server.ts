// HTTP(S): /metrics for Prometheus, /health/live and /health/ready for the kubelet.
// On the host network the port is reachable from anything that reaches the
// node, so every resource a client can make the server hold is bounded
// (HTTP_LIMITS, docs/security.md), and with EBPF_METRICS_AUTH=kubernetes
// /metrics answers only bearer tokens the API server allows.
import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { CONTENT_TYPE, streamMetrics, type MetricsSource } from './exposition.js';
import { TextWriter } from './text-writer.js';
import { close, listen } from './listen.js';
import { ReviewUnavailable, type KubernetesAuthorizer } from './auth.js';
import type { CertificateReloader } from './tls.js';

// node:http as CommonJS: an ES import builds the module's namespace by reading
// every export, and three of them (WebSocket, CloseEvent, MessageEvent) are
// getters that load Node's bundled undici: 12 MiB of RSS (bench/ footprint).
const { createServer } = process.getBuiltinModule('node:http');

const CHUNK_BYTES = 1024 * 1024;

/** What one client can make the server hold, and for how long. docs/security.md explains each. */
export const HTTP_LIMITS = {
  /** The request line and headers must arrive within this (slowloris). */
  headersTimeoutMs: 10_000,
  /** The whole request must arrive within this (a GET has no body: the same bound, kept explicit). */
  requestTimeoutMs: 15_000,
  /** How often Node looks for requests past those two timeouts (its default is 30 s). */
  connectionsCheckingIntervalMs: 1_000,
  /** Request line + headers; beyond: 431. A scrape's are ~300 bytes, a bearer token ~1 KiB. */
  maxHeaderBytes: 16 * 1024,
  /** An idle kept-alive connection is closed after this (Node's default, stated). */
  keepAliveTimeoutMs: 5_000,
  /** Requests on one kept-alive connection; then it is closed. */
  maxRequestsPerSocket: 1_000,
  /** Open connections at most; the kernel's accept queue holds the rest until one closes. */
  maxConnections: 512,
  /** A response that makes no progress for this long (a client that stopped reading) is cut. */
  idleSocketTimeoutMs: 30_000,
  /** A scrape that has not finished after this is cut, however slowly it is read. */
  scrapeDeadlineMs: 60_000,
  /** /metrics renders at once, each holding a 1 MiB chunk and its socket's buffers. */
  maxConcurrentScrapes: 2,
  /** Scrapes waiting for a render slot; beyond: 503 with Retry-After. */
  maxQueuedScrapes: 32,
} as const;

export type HttpLimits = { -readonly [K in keyof typeof HTTP_LIMITS]: number };

export interface Health {
  live(): boolean;
  ready(): boolean;
}

export interface MetricsServerOptions {
  /** Serve HTTPS with the key pair in these files, re-read every reloadMs. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly reloadMs?: number };
  /** Ask the API server about each /metrics request's bearer token. */
  readonly authorizer?: KubernetesAuthorizer;
  /** Tests shorten them; the agent runs with HTTP_LIMITS. */
  readonly limits?: Partial<HttpLimits>;
}

export class MetricsServer {
  private server: Server | undefined;
  private certificates: CertificateReloader | undefined;
  /** One chunk buffer for every scrape that does not overlap another. */
  private spare: TextWriter | undefined;
  private rendering = 0;
  private readonly queue: (() => void)[] = [];
  private readonly limits: HttpLimits;
  /** Counted for the abuse tests and docs/security.md's figures. */
  readonly stats = { scrapes: 0, refusedBusy: 0, unauthenticated: 0, forbidden: 0, reviewFailures: 0, cut: 0 };

  constructor(
    private readonly metrics: MetricsSource,
    private readonly health: Health,
    private readonly onError: (err: unknown) => void,
    private readonly options: MetricsServerOptions = {},
  ) {
    this.limits = { ...HTTP_LIMITS, ...options.limits };
  }

  get certificateReloads(): number {
    return this.certificates?.reloads ?? 0;
  }

  async start(port: number, address: string): Promise<number> {
    const l = this.limits;
    const httpOptions: ServerOptions = {
      headersTimeout: l.headersTimeoutMs,
      requestTimeout: l.requestTimeoutMs,
      connectionsCheckingInterval: l.connectionsCheckingIntervalMs,
      maxHeaderSize: l.maxHeaderBytes,
      keepAliveTimeout: l.keepAliveTimeoutMs,
    };
    const handler = (req: IncomingMessage, res: ServerResponse) => this.handle(req, res);
    let server: Server;
    const tls = this.options.tls;
    if (tls) {
      // HTTPS only when asked for: node:https (TLS, OpenSSL's contexts) is 7 MiB of RSS.
      const { createServer: createHttpsServer } = process.getBuiltinModule('node:https');
      const { CertificateReloader } = await import('./tls.js');
      this.certificates = new CertificateReloader(tls.certFile, tls.keyFile,
        (pair) => (server as ReturnType<typeof createHttpsServer>).setSecureContext(pair),
        (err) => this.onError(err));
      server = createHttpsServer({ ...httpOptions, ...this.certificates.pair, minVersion: 'TLSv1.2' }, handler) as unknown as Server;
      this.certificates.start(tls.reloadMs ?? 10_000);
    } else {
      server = createServer(httpOptions, handler);
    }
    server.maxConnections = l.maxConnections;
    server.maxRequestsPerSocket = l.maxRequestsPerSocket;
    server.setTimeout(l.idleSocketTimeoutMs);
    // Garbage on the wire gets its status and the socket closed, never an 'error' on the server.
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large'
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
      if (socket.writable && !socket.destroyed) socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\n\r\n`);
      // end() waits for the peer's FIN, which a slow client need never send.
      socket.destroySoon();
    });
    try {
      const bound = await listen(server, port, address);
      this.server = server;
      return bound;
    } catch (err) {
      this.certificates?.stop();
      throw err;
    }
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      void this.authorizeThenServe(req, res);
    } else if (path === '/health/live') {
      const ok = this.health.live();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'not live\n');
    } else if (path === '/health/ready') {
      const ok = this.health.ready();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ready\n' : 'not ready\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /health/live, /health/ready\n');
    }
  }

  /** Authorization comes first, so a client the API server refuses never holds a render slot. */
  private async authorizeThenServe(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const authorizer = this.options.authorizer;
    if (authorizer) {
      try {
        const d = await authorizer.decide(req.headers.authorization);
        if (d.kind === 'unauthenticated') {
          this.stats.unauthenticated++;
          res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer realm="ebpf-agent"' }).end(`unauthorized: ${d.reason}\n`);
          return;
        }
        if (d.kind === 'forbidden') {
          this.stats.forbidden++;
          res.writeHead(403, { 'content-type': 'text/plain' }).end(`forbidden: ${d.user} may not get /metrics\n`);
          return;
        }
      } catch (err) {
        this.stats.reviewFailures++;
        if (!(err instanceof ReviewUnavailable)) this.onError(err);
        res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' }).end(`authorization unavailable: ${(err as Error).message}\n`);
        return;
      }
    }
    if (res.destroyed) return;
    if (this.rendering >= this.limits.maxConcurrentScrapes) {
      if (this.queue.length >= this.limits.maxQueuedScrapes) {
        this.stats.refusedBusy++;
        res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' }).end('busy: too many scrapes at once\n');
        return;
      }
      await new Promise<void>((resolve) => this.queue.push(resolve));
    } else {
      this.rendering++;
    }
    try {
      if (!res.destroyed) await this.serveMetrics(req.method === 'HEAD', res);
    } finally {
      // Hand the slot to the next waiter, or give it back.
      const next = this.queue.shift();
      if (next) next();
      else this.rendering--;
    }
  }

  /**
   * Streamed in 1 MiB chunks, each written before the next is rendered: at
   * 100k pairs the text is ~30 MiB, which a whole-body buffer kept resident
   * (bench/ footprint). Chunked transfer encoding; a failure after the first
   * chunk cuts the connection so the scrape fails rather than looks short.
   */
  private async serveMetrics(head: boolean, res: ServerResponse): Promise<void> {
    this.stats.scrapes++;
    if (head) {
      res.writeHead(200, { 'content-type': CONTENT_TYPE }).end();
      return;
    }
    const deadline = setTimeout(() => {
      this.stats.cut++;
      res.destroy();
    }, this.limits.scrapeDeadlineMs);
    const w = this.spare ?? new TextWriter(CHUNK_BYTES + 64 * 1024);
    this.spare = undefined;
    try {
      await streamMetrics(this.metrics, w, (chunk) => {
        if (res.destroyed) return Promise.reject(new Error('scrape client gone'));
        if (!res.headersSent) res.writeHead(200, { 'content-type': CONTENT_TYPE });
        return new Promise<void>((resolve, reject) => {
          // A destroyed socket never calls back: 'close' settles the write instead.
          const onClose = () => reject(new Error('scrape client gone'));
          res.once('close', onClose);
          res.write(chunk, (err) => {
            res.off('close', onClose);
            // setImmediate: a write into an empty socket buffer calls back at
            // once, and without a turn of the event loop between chunks one
            // render (and the queued ones after it) would starve the probes,
            // the collection timer and every other client for seconds.
            if (err) reject(err);
            else setImmediate(resolve);
          });
        });
      }, CHUNK_BYTES);
      res.end();
    } catch (err) {
      if (res.headersSent || res.destroyed) {
        res.destroy();
      } else {
        this.onError(err);
        res.writeHead(500).end('metrics rendering failed\n');
      }
    } finally {
      clearTimeout(deadline);
      this.spare = w;
    }
  }

  async stop(): Promise<void> {
    this.certificates?.stop();
    const server = this.server;
    this.server = undefined;
    if (server) await close(server);
  }
}
