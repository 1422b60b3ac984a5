// Exposition: /metrics for N IP pairs (three series per pair: bytes, packets,
// active connections), rendered by prom-client from its own Counter and Gauge
// instruments (the baseline: how the agent held the series before its pair
// table) and by the agent's renderMetrics() from the pair table. Both outputs
// are compared byte for byte every round; each time includes encoding the
// text to the bytes the HTTP response carries.
import { renderMetrics } from '../agent/src/metrics/exposition.js';
import { Twin, type Labels } from './pair-twin.js';
import { spread, type Spread } from './stats.js';

export interface ExpositionOptions {
  pairs: number[];
  rounds: number;
}

export interface ExpositionResult {
  pairs: number;
  /** Lines of the three per-pair metrics (the rest of /metrics is a few dozen). */
  lines: number;
  bytes: number;
  /** Seconds per render + encode. */
  promClient: Spread;
  renderMetrics: Spread;
  /** promClient / renderMetrics, per round. */
  speedup: Spread;
}

const seconds = (from: bigint) => Number(process.hrtime.bigint() - from) / 1e9;

export async function runExposition(o: ExpositionOptions): Promise<ExpositionResult[]> {
  const out: ExpositionResult[] = [];
  for (const n of o.pairs) {
    const twin = new Twin();
    const labels: Labels[] = Array.from({ length: n }, (_, i) => ({
      src_ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      dst_ip: `10.200.${(i >> 4) & 255}.${(i * 7) & 255}`,
      protocol: i & 1 ? 'udp' : 'tcp',
    }));
    const prom: number[] = [], fast: number[] = [], ratio: number[] = [];
    let bytes = 0, lines = 0;
    // Round 0 is the first scrape after the series appeared (caches cold);
    // counters move between rounds as they do between scrapes.
    for (let r = 0; r <= o.rounds; r++) {
      for (const [i, l] of labels.entries()) twin.add(l, 1_000_000 + i * 1000 + r, 1000 + r, (i + r) % 10);
      let t = process.hrtime.bigint();
      const a = Buffer.from(await twin.expected());
      const pa = seconds(t);
      t = process.hrtime.bigint();
      const b = await renderMetrics(twin.m);
      const pb = seconds(t);
      if (!a.equals(b)) throw new Error(`renderMetrics differs from prom-client's text at ${n} pairs`);
      bytes = b.length;
      lines = b.toString('latin1').split('\n').filter((x) => x.includes('{src_ip="')).length;
      if (r === 0) continue;
      prom.push(pa);
      fast.push(pb);
      ratio.push(pa / pb);
    }
    out.push({ pairs: n, lines, bytes, promClient: spread(prom), renderMetrics: spread(fast), speedup: spread(ratio) });
  }
  return out;
}
