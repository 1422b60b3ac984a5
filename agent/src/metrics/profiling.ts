// EBPF_ENABLE_PROFILING: an HTTP server on its own port for looking inside a
// running agent: /debug/cpu-profile?seconds=N (a .cpuprofile for Chrome
// DevTools or speedscope) and /debug/heap-snapshot (a .heapsnapshot). Off by
// default; bound to 127.0.0.1 unless the metrics address is, so reaching it
// takes a port-forward.
import type { Server } from 'node:http';
import { Session } from 'node:inspector/promises';
import { getHeapSnapshot } from 'node:v8';
import { close, listen } from './listen.js';

// node:http as CommonJS: an ES import loads undici (metrics/server.ts says why).
const { createServer } = process.getBuiltinModule('node:http');
const MAX_SECONDS = 120;

async function cpuProfile(seconds: number): Promise<string> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const { profile } = await session.post('Profiler.stop');
    return JSON.stringify(profile);
  } finally {
    session.disconnect();
  }
}

export class ProfilingServer {
  private server: Server | undefined;

  async start(port: number, address: string): Promise<number> {
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname === '/debug/cpu-profile') {
        const text = url.searchParams.get('seconds') ?? '10';
        const seconds = Number(text);
        if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_SECONDS) {
          res.writeHead(400, { 'content-type': 'text/plain' }).end(`invalid seconds=${JSON.stringify(text)}: expected an integer from 1 to ${MAX_SECONDS}\n`);
          return;
        }
        cpuProfile(seconds).then(
          (body) => res.writeHead(200, { 'content-type': 'application/json', 'content-disposition': 'attachment; filename="agent.cpuprofile"' }).end(body),
          (err) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`profiling failed: ${(err as Error).message}\n`),
        );
      } else if (url.pathname === '/debug/heap-snapshot') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-disposition': 'attachment; filename="agent.heapsnapshot"' });
        getHeapSnapshot().pipe(res);
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /debug/cpu-profile?seconds=10 or /debug/heap-snapshot\n');
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

/** The profiling server listens where the metrics do only when they are on loopback too. */
export function profilingAddress(metricsAddress: string): string {
  return metricsAddress === '127.0.0.1' || metricsAddress === '::1' ? metricsAddress : '127.0.0.1';
}
