// The agent's MetricsServer with HTTP_LIMITS and a pair table of N pairs, in a
// process of its own so its memory can be read from /proc: the subject of
// tests/agent/http-abuse.test.ts and bench/http-abuse.ts. A 1 s timer stands in
// for the collection loop (same event loop): its lateness is what abuse costs
// the counting. Talks over IPC: {port} once listening, {rssBytes, hwmBytes,
// maxTimerLateMs, stats} on request ('stats'), 'reset-peak' zeroes the peaks.
import { readFileSync, writeFileSync } from 'node:fs';
import { createMetrics } from '../agent/src/metrics/registry.js';
import { MetricsServer } from '../agent/src/metrics/server.js';
import { encodePairKey } from '../agent/src/collector/ledger.js';
import { PairTable } from '../agent/src/collector/pair-table.js';

const pairs = Number(process.argv[2] ?? 100_000);
// The table written directly, as the ledger (its one writer in the agent) would.
const table = new PairTable();
const m = createMetrics(table);
for (let i = 0; i < pairs; i++) {
  const key = encodePairKey(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, `10.200.${(i >> 4) & 255}.${(i * 7) & 255}`, i & 1 ? 'udp' : 'tcp');
  const row = table.find(key) >= 0 ? table.find(key) : table.add(key, 0);
  table.bytes[row]! += 1_000_000 + i;
  table.packets[row]! += 1000;
  table.connections[row] = i % 10;
}
const server = new MetricsServer(m, { live: () => true, ready: () => true }, () => undefined);
let maxLate = 0;
let last = performance.now();
setInterval(() => {
  const now = performance.now();
  maxLate = Math.max(maxLate, now - last - 1000);
  last = now;
}, 1000);

function status(): { rssBytes: number; hwmBytes: number } {
  const text = readFileSync('/proc/self/status', 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)![1]) * 1024;
  return { rssBytes: kb('VmRSS'), hwmBytes: kb('VmHWM') };
}

process.on('message', (msg) => {
  if (msg === 'stats') process.send!({ ...status(), maxTimerLateMs: maxLate, stats: server.stats });
  if (msg === 'reset-peak') {
    // Writing 5 to clear_refs resets VmHWM to the current RSS (proc(5)).
    writeFileSync('/proc/self/clear_refs', '5');
    maxLate = 0;
    process.send!('reset');
  }
});
server.start(0, '127.0.0.1').then((port) => process.send!({ port }));
