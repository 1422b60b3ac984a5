// Footprint: the real agent (node agent/dist/main.js) in a simulated node's
// network namespace, idle and with N active IP pairs per collection interval.
// Pairs are made by filling both pinned flow maps before every collection
// (bench.cc's bulk insert), as N busy pods would; Prometheus is stood in for
// by one /metrics scrape per interval. RSS and CPU come from /proc, BPF
// memory from bpftool.
import { readFileSync } from 'node:fs';
import { withPinnedSlotFd } from './slots.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadTestingAddon as loadAddon } from '../tests/helpers/testing-addon.js';
import { AgentProcess } from '../tests/e2e/helpers/agent-process.js';
import { inNetns, parseJson, run, runJson } from '../tests/e2e/helpers/exec.js';
import { SimulatedNode } from '../tests/e2e/helpers/topology.js';
import { cpuSeconds, rssBytes } from './proc.js';
import { spread, type Spread } from './stats.js';

export interface FootprintOptions {
  pairs: number[];
  intervalSeconds: number;
  /** Collection intervals measured per scenario (after one warm-up interval). */
  intervals: number;
  /**
   * Agents started for idle and for the largest load, each a new process: a
   * peak moves by 10+ MiB from one to the next (which pages of the shared
   * node binary are mapped, when V8 collects), so a verdict needs several.
   */
  rounds: number;
  /** Node flags the agent runs with (on node's command line): the image's ENTRYPOINT's. */
  nodeOptions: string;
  /** Other flags to measure idle and the largest load again with ('' = Node's defaults). */
  compareNodeOptions?: string;
}

export interface FootprintScenario {
  activePairs: number;
  /** Node flags of the agent, on node's command line ('' = Node's defaults). */
  nodeOptions: string;
  maxFlows: number;
  rssMiB: Spread;
  peakRssMiB: number;
  /** The peaks of all rounds (idle and the largest load); peakRssMiB and the rest are from the median round. */
  peakRssRounds?: Spread;
  cpuSecondsPerMinute: number;
  cpuSecondsPerCollection: number;
  metricsBytes: number;
  /** A whole GET /metrics from inside the node (curl): render and transfer. */
  scrapeSeconds: Spread;
}

export interface BpfMemory {
  maxFlows: number;
  maps: { name: string; type: string; maxEntries: number; bytes: number }[];
  programs: { name: string; jitedBytes: number; memlockBytes: number }[];
  totalMapBytes: number;
}

export interface FootprintResult {
  scenarios: FootprintScenario[];
  bpfDefault: BpfMemory;
}

const MIB = 1024 * 1024;
/** AgentProcess runs the agent on this port inside the node. */
const AGENT_PORT = 9090;
const PINNED = ['connection_flows', 'connection_flows_1', 'flow_control', 'overflow_events', 'agent_stats', 'pair_totals'];

async function bpfMemory(agent: AgentProcess, maxFlows: number): Promise<BpfMemory> {
  const maps: BpfMemory['maps'] = [];
  for (const name of PINNED) {
    const r = await run('bpftool', ['-j', 'map', 'show', 'pinned', `${agent.pinPath}/${name}`], { allowFail: true });
    if (r.code !== 0) continue;
    const m = parseJson(r.stdout, `bpftool map show pinned ${agent.pinPath}/${name}`) as { name: string; type: string; max_entries: number; bytes_memlock: number };
    maps.push({ name, type: m.type, maxEntries: m.max_entries, bytes: m.bytes_memlock });
  }
  if (!maps.some((m) => m.name === 'connection_flows')) throw new Error(`no maps pinned under ${agent.pinPath}`);
  const progs = await runJson<{ name?: string; pids?: { pid: number }[]; bytes_jited?: number; bytes_memlock?: number }[]>('bpftool', ['-j', 'prog', 'show']);
  const programs = progs
    .filter((p) => (p.name === 'tc_pod_egress' || p.name === 'tc_host_egress') && p.pids?.some((x) => x.pid === agent.pid))
    .map((p) => ({ name: p.name!, jitedBytes: p.bytes_jited ?? 0, memlockBytes: p.bytes_memlock ?? 0 }));
  return { maxFlows, maps, programs, totalMapBytes: maps.reduce((a, m) => a + m.bytes, 0) };
}

/** curl from inside the node's namespace: no proxy between it and the agent. */
async function scrapeInNode(node: SimulatedNode): Promise<{ bytes: number; seconds: number }> {
  const { stdout } = await inNetns(node.netns, 'curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{size_download} %{time_total}', `http://127.0.0.1:${AGENT_PORT}/metrics`]);
  const [code, bytes, seconds] = stdout.trim().split(' ');
  if (code !== '200') throw new Error(`/metrics answered ${code}`);
  return { bytes: Number(bytes), seconds: Number(seconds) };
}

async function scenario(node: SimulatedNode, pairs: number, maxFlows: number, o: FootprintOptions, withBpf: boolean, nodeOptions = '') {
  const agent = await AgentProcess.start(node, {
    EBPF_COLLECTION_INTERVAL: `${o.intervalSeconds}s`,
    EBPF_MAX_FLOWS: String(maxFlows),
    EBPF_LOG_LEVEL: 'warn',
    NODE_OPTIONS: '',
  }, 0, true, nodeOptions.split(' ').filter(Boolean));
  const addon = loadAddon();
  try {
    await agent.waitReady();
    const memory = withBpf ? await bpfMemory(agent, maxFlows) : undefined;
    const fill = () => {
      if (!pairs) return;
      for (const slot of [0, 1]) withPinnedSlotFd(addon, agent.pinPath, slot, (fd) => addon.benchFillFlows(fd, { count: pairs, connectionsPerPair: 1, ipv6: false }));
    };
    const rss: number[] = [];
    const scrapes: number[] = [];
    let bytes = 0;
    // Warm-up interval: series are created, caches built.
    fill();
    await agent.waitForCollections(1, o.intervalSeconds * 3000);
    const cpu0 = cpuSeconds(agent.pid);
    const t0 = Date.now();
    const c0 = await agent.collections();
    for (let i = 0; i < o.intervals; i++) {
      fill();
      const deadline = Date.now() + o.intervalSeconds * 1000;
      const scrape = await scrapeInNode(node);
      bytes = scrape.bytes;
      scrapes.push(scrape.seconds);
      while (Date.now() < deadline) {
        rss.push(rssBytes(agent.pid));
        await sleep(250);
      }
    }
    const cpu = cpuSeconds(agent.pid) - cpu0;
    const minutes = (Date.now() - t0) / 60_000;
    const collections = (await agent.collections()) - c0;
    const status = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${agent.pid}/status`, 'utf8'));
    const s: FootprintScenario = {
      activePairs: pairs,
      nodeOptions,
      maxFlows,
      rssMiB: spread(rss.map((b) => b / MIB)),
      peakRssMiB: Number(status?.[1] ?? 0) / 1024,
      cpuSecondsPerMinute: cpu / minutes,
      cpuSecondsPerCollection: collections ? cpu / collections : cpu,
      metricsBytes: bytes,
      scrapeSeconds: spread(scrapes),
    };
    return { s, memory };
  } finally {
    await agent.stop();
    await run('rm', ['-rf', agent.pinPath], { allowFail: true });
  }
}

/** Runs a scenario `rounds` times: the median round, with the spread of all peaks. */
async function rounds(n: number, once: (round: number) => Promise<FootprintScenario>): Promise<FootprintScenario> {
  const runs: FootprintScenario[] = [];
  for (let r = 0; r < n; r++) runs.push(await once(r));
  if (n === 1) return runs[0]!;
  runs.sort((a, b) => a.peakRssMiB - b.peakRssMiB);
  return { ...runs[(n - 1) >> 1]!, peakRssRounds: spread(runs.map((x) => x.peakRssMiB)) };
}

export async function runFootprint(o: FootprintOptions): Promise<FootprintResult> {
  const node = await new SimulatedNode(7).create();
  try {
    const scenarios: FootprintScenario[] = [];
    let bpfDefault: BpfMemory | undefined;
    scenarios.push(await rounds(o.rounds, async (r) => {
      const idle = await scenario(node, 0, 65536, o, r === 0, o.nodeOptions);
      bpfDefault ??= idle.memory;
      return idle.s;
    }));
    // The default map (65536 connections) would send the rest of 100k pairs
    // to the ring buffer; size it for the load as an operator would.
    const mapFor = (pairs: number) => Math.max(65536, 2 ** Math.ceil(Math.log2(pairs * 1.25)));
    const largest = Math.max(...o.pairs);
    for (const pairs of o.pairs) {
      scenarios.push(await rounds(pairs === largest ? o.rounds : 1, async () => (await scenario(node, pairs, mapFor(pairs), o, false, o.nodeOptions)).s));
    }
    if (o.compareNodeOptions !== undefined) {
      scenarios.push((await scenario(node, 0, 65536, o, false, o.compareNodeOptions)).s);
      scenarios.push((await scenario(node, largest, mapFor(largest), o, false, o.compareNodeOptions)).s);
    }
    return { scenarios, bpfDefault: bpfDefault! };
  } finally {
    await node.destroy();
  }
}
