// The demo: a simulated node with pods (real CNI plugins, dual stack), the
// agent attached to them, live traffic, and a top-talkers table from the
// agent's own /metrics every few seconds. Ctrl-C or --duration ends it and
// removes everything it made.
import { SimulatedNode, type Pod } from '../tests/e2e/helpers/topology.js';
import { AgentProcess } from '../tests/e2e/helpers/agent-process.js';
import { Sinks, send } from '../tests/e2e/helpers/traffic.js';
import { parseDuration } from '../agent/src/config/settings.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return fallback;
  const a = process.argv[i]!;
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : (process.argv[i + 1] ?? fallback);
}

const durationText = arg('duration', '0');
const durationMs = durationText === '0' ? 0 : (parseDuration(durationText) ?? NaN);
const port = Number(arg('port', '9090'));
const every = parseDuration(arg('every', '3s'));
if (Number.isNaN(durationMs) || every === undefined || !(port > 0 && port < 65536)) {
  process.stderr.write('usage: npm run demo -- [--duration 60s (0 = until Ctrl-C)] [--port 9090] [--every 3s]\n');
  process.exit(2);
}

const human = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n.toFixed(0)} B`);

async function trafficLoop(pods: Pod[], stop: { done: boolean }): Promise<void> {
  let i = 0;
  while (!stop.done) {
    const from = pods[i % pods.length]!;
    const to = pods[(i * 7 + 1) % pods.length]!;
    if (from !== to) {
      const v6 = i % 3 === 0;
      await send(from, v6 ? to.ipv6 : to.ipv4, { udpCount: 5 + (i % 20), udpSize: 200 + ((i * 97) % 1200), tcpBytes: (i % 4) * 40_000 }).catch(() => undefined);
    }
    i++;
  }
}

async function main(): Promise<void> {
  const node = await new SimulatedNode(30).create();
  let agent: AgentProcess | undefined;
  const sinks = new Sinks();
  const stop = { done: false };
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      stop.done = true;
      process.stdout.write('\ncleaning up: agent, pods, node namespace\n');
      await sinks.stop().catch(() => undefined);
      await agent?.stop().catch(() => undefined);
      await node.destroy().catch(() => undefined);
    })());
  process.on('SIGINT', () => void cleanup().then(() => process.exit(0)));
  process.on('SIGTERM', () => void cleanup().then(() => process.exit(0)));

  try {
    process.stdout.write(`node namespace ${node.netns}: creating pods with the ptp and bridge CNI plugins...\n`);
    for (const cni of ['ptp', 'ptp', 'bridge', 'bridge'] as const) {
      const p = await node.addPod(cni);
      process.stdout.write(`  pod ${p.name} (${cni}): ${p.ipv4}  ${p.ipv6}  host veth ${p.hostVeth}\n`);
    }
    await sinks.start(node.pods);
    agent = await AgentProcess.start(node, { EBPF_COLLECTION_INTERVAL: '2s', EBPF_LOG_LEVEL: 'warn' }, port);
    await agent.waitReady();
    process.stdout.write(`agent attached; metrics at http://127.0.0.1:${agent.port}/metrics  (Ctrl-C to stop)\n`);
    void trafficLoop(node.pods, stop);

    const started = Date.now();
    let prev = await agent.traffic();
    let prevAt = Date.now();
    while (!stop.done && (durationMs === 0 || Date.now() - started < durationMs)) {
      await new Promise((r) => setTimeout(r, every!));
      const now = await agent.traffic();
      const dt = (Date.now() - prevAt) / 1000;
      const rows = [...now].map(([key, v]) => {
        const before = prev.get(key) ?? { bytes: 0, packets: 0 };
        const [src, dst, proto] = key.split('|');
        return { src: src!, dst: dst!, proto: proto!, rate: (v.bytes - before.bytes) / dt, total: v.bytes, packets: v.packets };
      }).sort((a, b) => b.rate - a.rate || b.total - a.total).slice(0, 10);
      process.stdout.write(`\ntop talkers at ${new Date().toISOString()} (${now.size} pairs)\n`);
      process.stdout.write(`${'source'.padEnd(22)}${'destination'.padEnd(22)}${'proto'.padEnd(7)}${'bytes/s'.padStart(12)}${'total'.padStart(12)}${'packets'.padStart(10)}\n`);
      for (const r of rows) {
        process.stdout.write(`${r.src.padEnd(22)}${r.dst.padEnd(22)}${r.proto.padEnd(7)}${(human(r.rate) + '/s').padStart(12)}${human(r.total).padStart(12)}${String(r.packets).padStart(10)}\n`);
      }
      prev = now;
      prevAt = Date.now();
    }
  } finally {
    await cleanup();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
