// Cost attribution: (1) the informers' memory at N pods and M nodes, in a
// process that has the agent's modules loaded (its own baseline), against a
// stand-in API server in another process; (2) /metrics for both families, the
// raw pair family and the workload family, at 100k IP pairs on one node,
// with the cardinality of each.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SHIPPED_NODE_FLAGS } from './node-flags.js';
import { createMetrics } from '../agent/src/metrics/registry.js';
import { PairTable } from '../agent/src/collector/pair-table.js';
import { renderMetrics, streamMetrics } from '../agent/src/metrics/exposition.js';
import { TextWriter } from '../agent/src/metrics/text-writer.js';
import { ClusterIndex, projectNode, projectPod } from '../agent/src/kubernetes/cluster.js';
import { Attribution } from '../agent/src/cost/attribution.js';
import { Destinations } from '../agent/src/cost/destinations.js';
import { encodePairKey, PAIR_RECORD_SIZE, RECORD_BYTES, RECORD_PACKETS } from '../agent/src/collector/ledger.js';
import { startProcess, stopProcess } from '../tests/e2e/helpers/exec.js';
import { spread, type Spread } from './stats.js';

export interface CostOptions {
  pods: number;
  nodes: number;
  services: number;
  pairs: number;
  rounds: number;
}

export interface InformerMemory {
  counts: { pods: number; nodes: number; services: number };
  syncSeconds: number;
  baseRssMiB: number;
  /** Loading the API client (agent/src/kubernetes/api.ts) and reading its credentials. */
  clientModuleMiB: number;
  /** The synced projections (and what listing left behind), after a GC. */
  syncedMiB: number;
  /** Both, on top of the agent's own. */
  rssDeltaMiB: number;
  peakRssDeltaMiB: number;
  heapDeltaMiB: number;
  /** rssDeltaMiB over the rounds (a fresh process each): the figure above is the median round's. */
  rssDeltaRounds: Spread;
}

export interface CostResult {
  informers: InformerMemory;
  exposition: {
    pairs: number; pairSeries: number; workloadRows: number; workloadSeries: number; bytes: number; attributeSeconds: number; render: Spread; pairsOnly: Spread;
    /** Both families as the server sends them: 1 MiB chunks through one reused writer (renderMetrics' whole body also pays for touching a fresh ~60 MiB buffer). */
    streamed: Spread;
  };
}

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

async function informerMemoryOnce(o: CostOptions): Promise<Omit<InformerMemory, 'rssDeltaRounds'>> {
  if (!existsSync(here('../agent/dist/kubernetes/informers.js'))) throw new Error('agent/dist/kubernetes/informers.js is missing: run npm run build first');
  const server = await startProcess(process.execPath, [here('./fake-apiserver.mjs'), String(o.pods), String(o.nodes), String(o.services)], /^ready \d+/m);
  try {
    const port = /^ready (\d+)/m.exec(server.output())![1]!;
    const child = spawn(process.execPath, ['--expose-gc', ...SHIPPED_NODE_FLAGS, here('./informer-memory.mjs'), port], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    if (code !== 0) throw new Error(`informer-memory.mjs exited ${code}: ${err}`);
    return JSON.parse(out.trim().split('\n').pop()!) as Omit<InformerMemory, 'rssDeltaRounds'>;
  } finally {
    await stopProcess(server.child, 2000);
  }
}

/** A process's RSS after a sync moves by several MiB from run to run: rounds, each a new process. */
async function informerMemory(o: CostOptions): Promise<InformerMemory> {
  const runs = [];
  for (let r = 0; r < o.rounds; r++) runs.push(await informerMemoryOnce(o));
  runs.sort((a, b) => a.rssDeltaMiB - b.rssDeltaMiB);
  return { ...runs[runs.length >> 1]!, rssDeltaRounds: spread(runs.map((x) => x.rssDeltaMiB)) };
}

/** A node's 100k pairs: 100 local pods of 40 workloads, each talking to 1000 of the cluster's pods and some external addresses. */
async function exposition(o: CostOptions): Promise<CostResult['exposition']> {
  const now = { t: 1_000 };
  const cluster = new ClusterIndex(60_000, () => now.t);
  const zones = ['a', 'b', 'c'];
  for (let n = 0; n < o.nodes; n++) {
    cluster.upsertNode(projectNode({ metadata: { name: `node-${n}`, labels: { 'topology.kubernetes.io/zone': zones[n % 3], 'topology.kubernetes.io/region': 'r' } }, status: { addresses: [{ type: 'InternalIP', address: `172.20.${n >> 8}.${n & 255}` }] } })!);
  }
  const podIp = (i: number) => `10.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
  for (let i = 0; i < o.pods; i++) {
    const wl = i < 100 ? `local-${i % 40}` : `app-${i % 500}`;
    cluster.upsertPod(`ns-${i % 50}/p${i}`, projectPod({
      metadata: { uid: `u${i}`, namespace: `ns-${i % 50}`, name: `p${i}`, labels: { 'pod-template-hash': 'h' }, ownerReferences: [{ kind: 'ReplicaSet', name: `${wl}-h`, controller: true }] },
      spec: { nodeName: i < 100 ? 'node-0' : `node-${i % o.nodes}` }, status: { phase: 'Running', podIPs: [{ ip: podIp(i) }] },
    })!);
  }
  const table = new PairTable();
  const m = createMetrics(table, { workloadMetrics: true });
  const attribution = new Attribution(cluster, new Destinations(), m.workloads, { localNode: 'node-0', ttlMs: 300_000 }, () => now.t);
  const records = Buffer.alloc(o.pairs * PAIR_RECORD_SIZE);
  for (let k = 0; k < o.pairs; k++) {
    const src = podIp(k % 100);
    // One in 20 to the internet, the rest to the cluster's pods.
    const dst = k % 20 === 0 ? `203.0.${(k >> 8) & 255}.${k & 255}` : podIp(100 + (Math.floor(k / 100) % (o.pods - 100)));
    const at = k * PAIR_RECORD_SIZE;
    encodePairKey(src, dst, k & 1 ? 'udp' : 'tcp').copy(records, at);
    records.writeBigUInt64LE(BigInt(1000 + k), at + RECORD_BYTES);
    records.writeBigUInt64LE(10n, at + RECORD_PACKETS);
  }
  const rows = new Int32Array(o.pairs);
  for (let k = 0; k < o.pairs; k++) {
    rows[k] = table.add(records, k * PAIR_RECORD_SIZE);
    table.bytes[rows[k]!] = 1000 + k;
    table.packets[rows[k]!] = 10;
  }
  now.t = 2_000;
  let t = process.hrtime.bigint();
  attribution.apply(records, rows, 'slot');
  const attributeSeconds = Number(process.hrtime.bigint() - t) / 1e9;
  const time = async (source: { registry: typeof m.registry; pairFamilies: typeof m.pairFamilies }) => {
    const times: number[] = [];
    let bytes = 0;
    for (let r = 0; r <= o.rounds; r++) {
      t = process.hrtime.bigint();
      const body = await renderMetrics(source);
      const s = Number(process.hrtime.bigint() - t) / 1e9;
      bytes = body.length;
      if (r > 0) times.push(s);
    }
    return { bytes, times: spread(times) };
  };
  const both = await time(m);
  // The same table without the workload family, for comparison.
  const alone = await time({ registry: m.registry, pairFamilies: m.pairFamilies.filter((f) => !f.name.startsWith('kubeadapt_workload_')) });
  const chunk = 1024 * 1024;
  const w = new TextWriter(chunk + 64 * 1024);
  const streamed: number[] = [];
  for (let r = 0; r <= o.rounds; r++) {
    let bytes = 0;
    t = process.hrtime.bigint();
    await streamMetrics(m, w, (c) => void (bytes += c.length), chunk);
    if (r > 0) streamed.push(Number(process.hrtime.bigint() - t) / 1e9);
    if (bytes !== both.bytes) throw new Error(`streamed ${bytes} bytes, rendered whole ${both.bytes}`);
  }
  return { pairs: m.pairs.size, pairSeries: m.pairs.size * 3, workloadRows: m.workloads.size, workloadSeries: m.workloads.size * 2, bytes: both.bytes, attributeSeconds, render: both.times, pairsOnly: alone.times, streamed: spread(streamed) };
}

export async function runCost(o: CostOptions): Promise<CostResult> {
  return { informers: await informerMemory(o), exposition: await exposition(o) };
}
