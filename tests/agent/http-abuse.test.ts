// The metrics server under abuse, with the limits the agent runs with
// (HTTP_LIMITS): malformed requests, oversized headers, slow clients that never
// finish a request, hundreds of concurrent scrapes of a 100k-pair /metrics and
// clients that never read. What is asserted: the answers, that memory stays
// bounded, that a well-behaved client is still answered. Latencies are figures,
// not assertions: bench/http-abuse.ts and docs/security.md.
import test from 'ava';
import { fork, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { get as httpGet } from 'node:http';
import { fileURLToPath } from 'node:url';
import { HTTP_LIMITS } from '../../agent/src/metrics/server.js';

const SERVER = fileURLToPath(new URL('../../bench/http-abuse-server.ts', import.meta.url));
const MiB = 1024 * 1024;

interface Stats { rssBytes: number; hwmBytes: number; maxTimerLateMs: number; stats: { scrapes: number; refusedBusy: number; cut: number } }

export class Subject {
  private constructor(readonly child: ChildProcess, readonly port: number) {}
  static async start(pairs: number): Promise<Subject> {
    const child = fork(SERVER, [String(pairs)], { execArgv: ['--import=tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (m) => resolve((m as { port: number }).port));
      child.once('exit', (code) => reject(new Error(`abuse server exited ${code}`)));
    });
    return new Subject(child, port);
  }
  private ask<T>(msg: string): Promise<T> {
    return new Promise((resolve) => {
      this.child.once('message', (m) => resolve(m as T));
      this.child.send(msg);
    });
  }
  stats(): Promise<Stats> { return this.ask('stats'); }
  resetPeak(): Promise<void> { return this.ask('reset-peak'); }
  stop(): void { this.child.kill('SIGKILL'); }
}

/** Sends raw bytes, resolves with everything the server wrote until it closed (or timeoutMs). */
function raw(port: number, bytes: string | Buffer, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    s.on('data', (d) => (out += d.toString('latin1')));
    s.on('close', () => resolve(out));
    s.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve(out) : reject(err)));
    s.setTimeout(timeoutMs, () => { s.destroy(); resolve(`${out}<timeout>`); });
    s.end(bytes);
  });
}

/** A GET that reads the whole body; ms is the time to the last byte. */
export function fetchAll(port: number, path: string): Promise<{ status: number; bytes: number; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = httpGet({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (d: Buffer) => (bytes += d.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, ms: performance.now() - t0 }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

let subject: Subject;
test.before(async () => {
  subject = await Subject.start(100_000);
});
test.after.always(() => subject?.stop());

test.serial('malformed requests get 400 and the connection closed; other methods 405', async (t) => {
  t.regex(await raw(subject.port, 'GARBAGE\r\n\r\n'), /^HTTP\/1\.1 400 Bad Request\r\n/);
  t.regex(await raw(subject.port, 'GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n'), /^HTTP\/1\.1 400 /);
  t.regex(await raw(subject.port, 'GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n'), /^HTTP\/1\.1 400 /);
  t.regex(await raw(subject.port, Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x01, 0, 0, 0xfb])), /^HTTP\/1\.1 400 /, 'a TLS hello on the plain port');
  t.regex(await raw(subject.port, 'POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 405 .*\r\nallow: GET, HEAD\r\n/s);
  t.regex(await raw(subject.port, 'GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 404 /);
});

test.serial(`headers over ${HTTP_LIMITS.maxHeaderBytes} bytes get 431`, async (t) => {
  const big = `GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(HTTP_LIMITS.maxHeaderBytes)}\r\n\r\n`;
  t.regex(await raw(subject.port, big), /^HTTP\/1\.1 431 /);
  const many = `GET /metrics HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 2000 }, (_, i) => `X-${i}: y\r\n`).join('')}\r\n`;
  t.regex(await raw(subject.port, many), /^HTTP\/1\.1 431 /);
  // Just under the limit is still served.
  t.regex(await raw(subject.port, `GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Pad: ${'a'.repeat(HTTP_LIMITS.maxHeaderBytes - 200)}\r\n\r\n`), /^HTTP\/1\.1 200 /);
});

test.serial('slow clients that never finish their headers are closed by the headers timeout', async (t) => {
  const sockets: Socket[] = [];
  const closedAt: number[] = [];
  const t0 = performance.now();
  const drip = setInterval(() => { for (const s of sockets) if (!s.destroyed) s.write('X-a: b\r\n'); }, 500);
  for (let i = 0; i < 200; i++) {
    const s = connect(subject.port, '127.0.0.1');
    s.on('error', () => undefined);
    s.on('close', () => closedAt.push(performance.now() - t0));
    s.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
    sockets.push(s);
  }
  try {
    // Meanwhile a well-behaved client is answered.
    const live = await fetchAll(subject.port, '/health/live');
    t.is(live.status, 200);
    const limit = HTTP_LIMITS.headersTimeoutMs + HTTP_LIMITS.connectionsCheckingIntervalMs + 5_000;
    while (closedAt.length < sockets.length && performance.now() - t0 < limit) await new Promise((r) => setTimeout(r, 200));
    t.is(closedAt.length, 200, `${closedAt.length} of 200 slow connections closed after ${Math.round(performance.now() - t0)} ms`);
    t.true(Math.min(...closedAt) >= HTTP_LIMITS.headersTimeoutMs - 500, `closed at ${Math.min(...closedAt)} ms`);
    t.log(`slowloris: 200 connections closed ${Math.round(Math.min(...closedAt))}..${Math.round(Math.max(...closedAt))} ms after they opened; /health/live meanwhile in ${live.ms.toFixed(1)} ms`);
  } finally {
    clearInterval(drip);
    for (const s of sockets) s.destroy();
  }
});

test.serial('300 concurrent scrapes of 100k pairs: bounded memory, complete bodies or 503, the others still answered', async (t) => {
  const reference = await fetchAll(subject.port, '/metrics');
  t.is(reference.status, 200);
  t.true(reference.bytes > 20 * MiB, `${reference.bytes} bytes`);
  await subject.resetPeak();
  const before = await subject.stats();
  const scrapes = Promise.all(Array.from({ length: 300 }, () => fetchAll(subject.port, '/metrics')));
  const health: number[] = [];
  let done = false;
  void scrapes.finally(() => (done = true));
  while (!done) {
    const h = await fetchAll(subject.port, '/health/ready');
    t.is(h.status, 200);
    health.push(h.ms);
    await new Promise((r) => setTimeout(r, 50));
  }
  const results = await scrapes;
  const after = await subject.stats();
  const ok = results.filter((r) => r.status === 200);
  const busy = results.filter((r) => r.status === 503);
  t.is(ok.length + busy.length, 300);
  t.true(ok.length >= HTTP_LIMITS.maxConcurrentScrapes + HTTP_LIMITS.maxQueuedScrapes, `${ok.length} served`);
  for (const r of ok) t.is(r.bytes, reference.bytes, 'every served scrape is complete');
  t.is(after.stats.refusedBusy - before.stats.refusedBusy, busy.length);
  const growth = after.hwmBytes - before.rssBytes;
  t.true(growth < 96 * MiB, `peak RSS grew ${(growth / MiB).toFixed(1)} MiB`);
  t.log(`300 scrapes: ${ok.length} served, ${busy.length} 503; peak RSS +${(growth / MiB).toFixed(1)} MiB over ${(before.rssBytes / MiB).toFixed(1)} MiB; /health/ready p50 ${health.sort((a, b) => a - b)[health.length >> 1]!.toFixed(1)} ms max ${Math.max(...health).toFixed(1)} ms (${health.length} probes); 1 s timer late by at most ${after.maxTimerLateMs.toFixed(0)} ms`);
});

test.serial('clients that request /metrics and never read hold bounded memory and do not stop the others', async (t) => {
  await subject.resetPeak();
  const before = await subject.stats();
  const sockets: Socket[] = [];
  for (let i = 0; i < 100; i++) {
    const s = connect(subject.port, '127.0.0.1');
    s.on('error', () => undefined);
    s.write('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
    s.pause();
    sockets.push(s);
  }
  try {
    await new Promise((r) => setTimeout(r, 3000));
    const live = await fetchAll(subject.port, '/health/live');
    t.is(live.status, 200);
    const after = await subject.stats();
    const growth = after.hwmBytes - before.rssBytes;
    t.true(growth < 64 * MiB, `peak RSS grew ${(growth / MiB).toFixed(1)} MiB with 100 stalled readers`);
    t.log(`100 stalled readers: peak RSS +${(growth / MiB).toFixed(1)} MiB; /health/live in ${live.ms.toFixed(1)} ms`);
  } finally {
    for (const s of sockets) s.destroy();
  }
  // With the stalled readers gone, scrapes are served again.
  await new Promise((r) => setTimeout(r, 500));
  t.is((await fetchAll(subject.port, '/metrics')).status, 200);
});
