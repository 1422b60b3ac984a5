// Turns what a ledger transaction applied (per IP pair: bytes and packets
// added) into the workload family: each pair's delta goes, whole, to the row
// of (source workload, destination workload, cost class) its addresses had
// while the packets were counted. So the family equals the raw pair series
// summed by the same mapping, exactly: nothing is sampled, and an address
// nobody is known to own goes to Unknown, never dropped.
import { formatIPv4, formatIPv6 } from '../bpf/ip.js';
import { PAIR_RECORD_SIZE, RECORD_BYTES, RECORD_PACKETS, readU64 } from '../collector/ledger.js';
import type { ClusterIndex, Endpoint } from '../kubernetes/cluster.js';
import { classifyPlaced, type CostClass, type Placement } from './classes.js';
import type { Destinations, External } from './destinations.js';
import { sideLabelText, workloadLabelText, type Side, type WorkloadTable } from './workload-table.js';


interface Resolved {
  readonly side: Side;
  readonly placement?: Placement;
  readonly external?: External;
  /** Services: where the packets go is the backend's business (unknown until resolved to it). */
  readonly unplaceable?: boolean;
  /**
   * sideLabelText() as source and as destination, made once per address and
   * transaction, not per pair: escaping six values per pair was a third of
   * an apply (bench/ cost, 100k pairs).
   */
  srcText?: string;
  dstText?: string;
}

const UNKNOWN: Side = { namespace: '', workload: '', kind: 'Unknown' };
const EXTERNAL: Side = { namespace: '', workload: '', kind: 'External' };

export interface AttributionOptions {
  /** This node's name (EBPF_NODE_NAME): where a source no one is known to own was counted. */
  localNode?: string;
  ttlMs: number;
}

export class Attribution {
  private last = { slot: 0, ring: 0 };

  constructor(
    private readonly cluster: ClusterIndex,
    private readonly destinations: Destinations,
    readonly table: WorkloadTable,
    private readonly opts: AttributionOptions,
    private readonly now: () => number = Date.now,
  ) {
    const t = now();
    this.last = { slot: t, ring: t };
  }

  private placement(node: string): Placement {
    const n = this.cluster.node(node);
    return { node, zone: n?.zone ?? '', region: n?.region ?? '' };
  }

  private resolve(ip: string, bytes: Uint8Array, fromMs: number, toMs: number): Resolved {
    const ep: Endpoint | undefined = this.cluster.resolve(ip, fromMs, toMs);
    if (ep) {
      const side = { namespace: ep.namespace, workload: ep.workload, kind: ep.kind };
      if (ep.kind === 'Service') return { side, unplaceable: true };
      return { side, placement: ep.node ? this.placement(ep.node) : undefined };
    }
    const external = this.destinations.classify(bytes);
    if (external.class === 'unknown') return { side: UNKNOWN };
    return { side: external.group ? { namespace: '', workload: external.group, kind: 'CIDRGroup' } : EXTERNAL, external };
  }

  private classOf(src: Resolved, dst: Resolved): CostClass {
    if (dst.external) return dst.external.class;
    if (src.external) return src.external.class;
    if (dst.unplaceable || src.unplaceable) return 'unknown';
    // The packet was counted leaving this node: an unowned source is still here.
    const from = src.placement ?? (this.opts.localNode && src.side === UNKNOWN ? this.placement(this.opts.localNode) : undefined);
    return classifyPlaced(from, dst.placement);
  }

  /**
   * What one transaction applied: `records` in readPairs' layout, `rows[i] < 0`
   * where record i was applied by an earlier attempt (already attributed).
   */
  apply(records: Buffer, rows: Int32Array, kind: 'slot' | 'ring'): void {
    const to = this.now();
    const from = this.last[kind];
    this.last[kind] = to;
    const cache = new Map<string, Resolved>();
    const side = (family: number, at: number): Resolved => {
      const ip = family === 6 ? formatIPv6(records, at) : formatIPv4(records, at);
      let r = cache.get(ip);
      if (!r) {
        r = this.resolve(ip, records.subarray(at, at + (family === 6 ? 16 : 4)), from, to);
        cache.set(ip, r);
      }
      return r;
    };
    const n = Math.floor(records.length / PAIR_RECORD_SIZE);
    for (let i = 0; i < n; i++) {
      if (rows[i]! < 0) continue;
      const at = i * PAIR_RECORD_SIZE;
      const family = records[at]!;
      const src = side(family, at + 4);
      const dst = side(family, at + 20);
      const bytes = readU64(records, at + RECORD_BYTES);
      const packets = readU64(records, at + RECORD_PACKETS);
      if (bytes === 0 && packets === 0) continue;
      src.srcText ??= sideLabelText('src', src.side);
      dst.dstText ??= sideLabelText('dst', dst.side);
      this.table.addText(workloadLabelText(src.srcText, dst.dstText, this.classOf(src, dst)), bytes, packets, to);
    }
    if (kind === 'slot') this.table.expire(to, this.opts.ttlMs);
  }
}
