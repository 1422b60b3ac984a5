// A tiny HTTP server that plays the agent's /metrics for tests of the dashboard
// and the Prometheus helper, and an exposition built from METRIC_LIST so the
// names Prometheus stores are exactly the contract's.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { METRIC_LIST, type MetricDefinition } from '../../agent/src/metrics/definitions.js';

export interface TextServer {
  /** `127.0.0.1:<port>`, ready for a static scrape config. */
  readonly address: string;
  /** How many times /metrics was fetched. */
  scrapes(): number;
  stop(): Promise<void>;
}

/** Serves `render(n)` (n = 1 for the first scrape) at /metrics on 127.0.0.1 and a free port. */
export async function serveExposition(render: (scrape: number) => string): Promise<TextServer> {
  let count = 0;
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    count += 1;
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(render(count));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    scrapes: () => count,
    stop: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** Label values for the sample series; pair labels get one IPv4 and one IPv6 series. */
const PAIRS = [
  { src_ip: '10.244.1.5', dst_ip: '10.244.2.7', protocol: 'tcp' },
  { src_ip: 'fd00:10:244:1::5', dst_ip: 'fd00:10:244:2::7', protocol: 'udp' },
] as const;

const VALUES: Record<string, string> = {
  program: 'tc_pod_egress', map: 'connection_flows', type: 'drain', reason: 'truncated',
  enabled: 'true', netns_filter_mode: 'default', max_flows: '65536',
  src_namespace: 'shop', src_workload: 'web', src_kind: 'Deployment', dst_namespace: 'shop', dst_workload: 'db', dst_kind: 'StatefulSet',
  cost_class: 'cross_zone', resource: 'pods',
};

/** Per-scrape growth of the IPv4 pair's counters; the IPv6 pair grows by a hundredth of it. */
export const IPV4_STEP = 1000;
export const IPV6_STEP = 10;

function labelText(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function labelSets(m: MetricDefinition): Array<{ labels: Record<string, string>; step: number }> {
  if (m.labels.includes('dst_ip')) {
    return PAIRS.map((p, i) => ({ labels: { ...p }, step: i === 0 ? IPV4_STEP : IPV6_STEP }));
  }
  const labels: Record<string, string> = {};
  for (const l of m.labels) {
    const v = VALUES[l];
    if (v === undefined) throw new Error(`sample exposition: no sample value for label ${l} of ${m.name}`);
    labels[l] = v;
  }
  // The cost panels filter by class: one series for each class they select.
  if (m.labels.includes('cost_class')) return ['cross_zone', 'internet'].map((c) => ({ labels: { ...labels, cost_class: c }, step: 1 }));
  return [{ labels, step: 1 }];
}

/**
 * One sample of each metric in METRIC_LIST (two for the IP-pair metrics), as it
 * would look at scrape `n`: counters and the histogram grow every scrape so
 * rate() and histogram_quantile() have something to compute.
 */
export function sampleExposition(n: number): string {
  const lines: string[] = [];
  for (const m of METRIC_LIST) {
    lines.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`);
    for (const { labels, step } of labelSets(m)) {
      if (m.type === 'counter') {
        lines.push(`${m.name}${labelText(labels)} ${step * n}`);
      } else if (m.type === 'gauge') {
        lines.push(`${m.name}${labelText(labels)} ${step}`);
      } else {
        // Every collection takes 3 ms: it lands in the buckets from 0.005 up.
        const buckets = m.buckets ?? [];
        for (const le of buckets) {
          lines.push(`${m.name}_bucket${labelText({ ...labels, le: String(le) })} ${le >= 0.003 ? n : 0}`);
        }
        lines.push(`${m.name}_bucket${labelText({ ...labels, le: '+Inf' })} ${n}`);
        lines.push(`${m.name}_sum${labelText(labels)} ${0.003 * n}`);
        lines.push(`${m.name}_count${labelText(labels)} ${n}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}
