// Child process of the cost bench: the agent's built modules loaded (its own
// baseline: agent/dist, as the image runs it, not through tsx), then the
// Kubernetes enrichment synced from the fake API server.
// Prints one JSON line: RSS and heap before and after (after a full GC), and
// the peak RSS while it listed. Run with --expose-gc.
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubernetesEnrichment } from '../agent/dist/kubernetes/informers.js';
import { loadApiClient } from '../agent/dist/kubernetes/api.js';
import '../agent/dist/lifecycle.js';
import { createLogger } from '../agent/dist/log.js';
import { loadAddon } from '../agent/dist/addon.js';

const port = Number(process.argv[2]);
const gc = globalThis.gc;
if (!gc) throw new Error('run with --expose-gc');
const dir = mkdtempSync(join(tmpdir(), 'ka-bench-kc-'));
const kubeconfig = join(dir, 'kubeconfig');
writeFileSync(kubeconfig, JSON.stringify({
  apiVersion: 'v1', kind: 'Config', 'current-context': 'b',
  clusters: [{ name: 'b', cluster: { server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } }], users: [{ name: 'b', user: { token: 'x' } }],
  contexts: [{ name: 'b', context: { cluster: 'b', user: 'b' } }],
}));
const mib = (n) => n / 2 ** 20;
const settle = async () => {
  gc();
  await sleep(200);
  gc();
  return { rss: process.memoryUsage().rss, heap: process.memoryUsage().heapUsed };
};
// The agent's own: its modules and addon, without the Kubernetes client (EBPF_KUBERNETES=off).
loadAddon();
const base = await settle();
const found = await loadApiClient({ KUBECONFIG: kubeconfig });
if ('reason' in found) throw new Error(found.reason);
const before = await settle();
let peak = before.rss;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
const started = Date.now();
const e = new KubernetesEnrichment(found.client, createLogger('error', 'json'), { historyMs: 60_000, onListed: () => loadAddon().releaseFreedMemory() /* as lifecycle.ts does */ });
e.start();
while (!e.synced) await sleep(5);
const syncSeconds = (Date.now() - started) / 1000;
clearInterval(sampler);
const after = await settle();
process.stdout.write(`${JSON.stringify({
  counts: e.cluster.counts, syncSeconds,
  baseRssMiB: mib(base.rss), clientModuleMiB: mib(before.rss - base.rss), syncedMiB: mib(after.rss - before.rss),
  rssDeltaMiB: mib(after.rss - base.rss), peakRssDeltaMiB: mib(peak - base.rss), heapDeltaMiB: mib(after.heap - base.heap),
})}\n`);
e.stop();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
