// EBPF_PAIR_DESTINATION_GROUPS: the raw pair family with destinations in a
// named group of the destinations file written as the group's name
// (dst_ip="s3-eu-west-1"), so 10k S3 addresses are one series per source, not
// 10k. The mapping is static (the file), so each grouped series is exactly the
// sum of the pairs it stands for: seeded from the pinned totals at start, then
// fed each transaction's deltas like the workload family.
import { formatIPv4, formatIPv6 } from '../bpf/ip.js';
import { PROTOCOL_NAMES } from '../bpf/records.js';
import type { PairView } from '../collector/pair-table.js';
import { addressBytes } from './cidr.js';
import { PAIR_RECORD_SIZE, RECORD_BYTES, RECORD_PACKETS, readU64 } from '../collector/ledger.js';
import type { Destinations } from './destinations.js';
import type { WorkloadTable } from './workload-table.js';

export class GroupedPairs {
  constructor(
    private readonly destinations: Destinations,
    readonly table: WorkloadTable,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  private labelText(key: Buffer, at: number): string {
    const v6 = key[at] === 6;
    const fmt = v6 ? formatIPv6 : formatIPv4;
    const dst = this.destinations.groupOf(key.subarray(at + 20, at + 20 + (v6 ? 16 : 4))) ?? fmt(key, at + 20);
    return `{src_ip="${fmt(key, at + 4)}",dst_ip="${dst}",protocol="${PROTOCOL_NAMES[key[at + 1]!]}"}`;
  }

  /** The totals the ledger holds at start (the pinned ones). */
  seed(pairs: PairView): void {
    const now = this.now();
    const bytes = pairs.column('bytes');
    const packets = pairs.column('packets');
    for (let row = 0; row < pairs.end; row++) {
      if (!pairs.live(row)) continue;
      const l = pairs.labelsOf(row);
      const dst = this.destinations.groupOf(addressBytes(l.dst_ip) ?? []) ?? l.dst_ip;
      this.table.addText(`{src_ip="${l.src_ip}",dst_ip="${dst}",protocol="${l.protocol}"}`, bytes[row]!, packets[row]!, now);
    }
  }

  apply(records: Buffer, rows: Int32Array, kind: 'slot' | 'ring'): void {
    const now = this.now();
    const n = Math.floor(records.length / PAIR_RECORD_SIZE);
    for (let i = 0; i < n; i++) {
      if (rows[i]! < 0) continue;
      const at = i * PAIR_RECORD_SIZE;
      this.table.addText(this.labelText(records, at), readU64(records, at + RECORD_BYTES), readU64(records, at + RECORD_PACKETS), now);
    }
    if (kind === 'slot') this.table.expire(now, this.ttlMs);
  }
}
