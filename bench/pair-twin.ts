// The same IP pairs in the agent's pair table and in prom-client's own Counter
// and Gauge instruments (how the agent held them before the table): the
// exposition bench's baseline and the exposition test's reference text. The
// twin writes the table itself, as the ledger (its only writer in the agent)
// does: what is measured here is rendering, not the ledger.
import { Counter, Gauge, Registry } from 'prom-client';
import { createMetrics, type AgentMetrics } from '../agent/src/metrics/registry.js';
import { PairTable } from '../agent/src/collector/pair-table.js';
import { encodePairKey } from '../agent/src/collector/ledger.js';
import { METRICS } from '../agent/src/metrics/definitions.js';
import type { Protocol } from '../agent/src/bpf/records.js';

export type Labels = { src_ip: string; dst_ip: string; protocol: Protocol };

/** The same pairs in the agent's table and in prom-client instruments. */
export class Twin {
  readonly ref = new Registry();
  readonly bytes = new Counter({ name: METRICS.trafficBytes.name, help: METRICS.trafficBytes.help, labelNames: ['src_ip', 'dst_ip', 'protocol'], registers: [this.ref] });
  readonly packets = new Counter({ name: METRICS.trafficPackets.name, help: METRICS.trafficPackets.help, labelNames: ['src_ip', 'dst_ip', 'protocol'], registers: [this.ref] });
  readonly conns = new Gauge({ name: METRICS.activeConnections.name, help: METRICS.activeConnections.help, labelNames: ['src_ip', 'dst_ip', 'protocol'], registers: [this.ref] });

  readonly table = new PairTable();
  readonly m: AgentMetrics = createMetrics(this.table);

  private row(l: Labels): number {
    const key = encodePairKey(l.src_ip, l.dst_ip, l.protocol);
    const t = this.table;
    const found = t.find(key);
    return found >= 0 ? found : t.add(key, 0);
  }

  add(l: Labels, bytes: number, packets: number, conns: number): void {
    const row = this.row(l);
    this.table.bytes[row]! += bytes;
    this.table.packets[row]! += packets;
    this.table.connections[row] = conns;
    this.bytes.inc(l, bytes);
    this.packets.inc(l, packets);
    this.conns.set(l, conns);
  }

  remove(l: Labels): void {
    this.table.remove(this.row(l));
    this.bytes.remove(l);
    this.packets.remove(l);
    this.conns.remove(l);
  }

  /** The pair metrics from prom-client's instruments, then the agent's other metrics, as prom-client renders them. */
  async expected(): Promise<string> {
    return `${await this.ref.metrics()}\n${await this.m.registry.metrics()}`;
  }
}

