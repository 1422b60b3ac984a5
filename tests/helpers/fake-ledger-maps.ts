// The maps a Ledger uses (collector/ledger.ts LedgerMaps), in memory, with
// the kernel's semantics where the ledger's correctness depends on them:
// pair_totals refuses a new key beyond max_entries with E2BIG after writing
// the keys before it (a batch update stops at the first failure), replacing a
// key never fails, the slots are written through flow_control.active_slot and
// the ring is consumed only by ringAdvance. Pure-logic tests only: the real
// maps are proven in tests/e2e.
import type { FlowControl, MapContents, ServiceResolution } from '../../agent/src/native.js';
import { PAIR_KEY_SIZE, PAIR_RECORD_SIZE, PAIR_TOTALS_SIZE, RECORD_BYTES, RECORD_CONNECTIONS, RECORD_PACKETS, encodePairKey, readU64, type LedgerMaps } from '../../agent/src/collector/ledger.js';
import { FLOW_KEY_SIZE, OVERFLOW_RECORD_SIZE, type Protocol } from '../../agent/src/bpf/records.js';

function errno(code: string, errnoValue: number, what: string): Error {
  return Object.assign(new Error(`${what}: ${code}`), { code, errno: errnoValue });
}

interface Flow {
  src: string;
  dst: string;
  protocol: Protocol;
  sport: number;
  bytes: number;
  packets: number;
}

export class FakeLedgerMaps implements LedgerMaps {
  /** pair_totals: key as hex -> value (24 B). */
  readonly totals = new Map<string, Buffer>();
  private ctl: FlowControl = { activeSlot: 0, txnKind: 0, txnEpoch: 0n, txnRingEnd: 0n };
  private readonly slots: Flow[][] = [[], []];
  private ring: Buffer[] = [];
  private ringStart = 0;
  /** The next pair_totals update throws after writing this many entries (a crash or error mid-batch). */
  failUpdateAfter: number | undefined;
  /** The next release of a drained slot throws (a crash after pair_totals was written). */
  failSlotRelease = false;
  updates = 0;

  constructor(readonly maxPairs: number) {}

  /** Traffic a program counts into the active slot. */
  send(src: string, dst: string, protocol: Protocol, bytes: number, packets: number, sport = 1000): void {
    this.slots[this.ctl.activeSlot]!.push({ src, dst, protocol, sport, bytes, packets });
  }

  /** Traffic of a flow that did not fit the active slot: one overflow record. */
  overflow(src: string, dst: string, protocol: Protocol, bytes: number, packets: number, sport = 1000): void {
    const r = Buffer.alloc(OVERFLOW_RECORD_SIZE);
    const k = encodePairKey(src, dst, protocol);
    k.copy(r, 0, 0, 4);
    r.writeUInt16BE(sport, 4);
    r.writeUInt16BE(80, 6);
    k.copy(r, 8, 4, PAIR_KEY_SIZE);
    r.writeUInt32LE(bytes, FLOW_KEY_SIZE);
    r.writeUInt32LE(packets, FLOW_KEY_SIZE + 8);
    this.ring.push(r);
  }

  /** The pinned totals of a pair: [bytes, packets, epoch], undefined when absent. */
  pinned(src: string, dst: string, protocol: Protocol): [number, number, number] | undefined {
    const v = this.totals.get(encodePairKey(src, dst, protocol).toString('hex'));
    return v && [readU64(v, 0), readU64(v, 8), readU64(v, 16)];
  }

  async readMap(name: string): Promise<MapContents> {
    if (name !== 'pair_totals') throw new Error(`fake: readMap ${name}`);
    const keys = Buffer.concat([...this.totals.keys()].map((k) => Buffer.from(k, 'hex')));
    const values = Buffer.concat([...this.totals.values()]);
    return { count: this.totals.size, keys, values };
  }

  async readPairs(flowMap: string): Promise<{ count: number; keys: Buffer; deferredKeys: Buffer; pairs: Buffer }> {
    const flows = this.slots[flowMap === 'connection_flows' ? 0 : 1]!;
    const folded = new Map<string, { bytes: number; packets: number; ports: Set<number> }>();
    for (const f of flows) {
      const k = encodePairKey(f.src, f.dst, f.protocol).toString('hex');
      const p = folded.get(k) ?? { bytes: 0, packets: 0, ports: new Set<number>() };
      p.bytes += f.bytes;
      p.packets += f.packets;
      p.ports.add(f.sport);
      folded.set(k, p);
    }
    const pairs = Buffer.alloc(folded.size * PAIR_RECORD_SIZE);
    [...folded].forEach(([k, p], i) => {
      const at = i * PAIR_RECORD_SIZE;
      Buffer.from(k, 'hex').copy(pairs, at);
      pairs.writeUInt32LE(p.bytes, at + RECORD_BYTES);
      pairs.writeUInt32LE(p.packets, at + RECORD_PACKETS);
      pairs.writeUInt32LE(p.ports.size, at + RECORD_CONNECTIONS);
    });
    // One flow_key per flow; only their count matters to the fake's deleteKeys.
    return { count: flows.length, keys: Buffer.alloc(flows.length * FLOW_KEY_SIZE), deferredKeys: Buffer.alloc(0), pairs };
  }

  // Async like the addon's (a worker thread), so the ledger's awaits are exercised.
  async updateMap(name: string, keys: Buffer, values: Buffer): Promise<void> {
    if (name !== 'pair_totals') throw new Error(`fake: updateMap ${name}`);
    this.updates++;
    const n = keys.length / PAIR_KEY_SIZE;
    for (let i = 0; i < n; i++) {
      if (this.failUpdateAfter !== undefined && i === this.failUpdateAfter) {
        this.failUpdateAfter = undefined;
        throw errno('EIO', 5, 'updating map pair_totals');
      }
      const k = keys.toString('hex', i * PAIR_KEY_SIZE, (i + 1) * PAIR_KEY_SIZE);
      if (!this.totals.has(k) && this.totals.size >= this.maxPairs) throw errno('E2BIG', 7, 'updating map pair_totals');
      this.totals.set(k, Buffer.from(values.subarray(i * PAIR_TOTALS_SIZE, (i + 1) * PAIR_TOTALS_SIZE)));
    }
  }

  async deleteKeys(name: string, keys: Buffer): Promise<void> {
    if (name === 'pair_totals') {
      for (let at = 0; at < keys.length; at += PAIR_KEY_SIZE) this.totals.delete(keys.toString('hex', at, at + PAIR_KEY_SIZE));
    } else {
      if (this.failSlotRelease) {
        this.failSlotRelease = false;
        throw errno('EIO', 5, `deleting from map ${name}`);
      }
      const slot = this.slots[name === 'connection_flows' ? 0 : 1]!;
      slot.splice(0, keys.length / FLOW_KEY_SIZE);
    }
  }

  async releaseSlot(name: string, drained: Buffer, _kept: Buffer, _how?: string): Promise<{ replaced: boolean }> {
    await this.deleteKeys(name, drained);
    return { replaced: false };
  }

  control(): FlowControl {
    return { ...this.ctl };
  }

  setControl(control: FlowControl): void {
    this.ctl = { ...control };
  }

  async waitForPrograms(): Promise<void> {}

  /** Positions count records. */
  ringPeek(limit?: bigint): { records: Buffer; start: bigint; end: bigint } {
    const end = limit === undefined ? this.ringStart + this.ring.length : Number(limit);
    return { records: Buffer.concat(this.ring.slice(0, end - this.ringStart)), start: BigInt(this.ringStart), end: BigInt(end) };
  }

  // No Services in the fake: the records come back as they went in.
  async resolveRecords(records: Buffer): Promise<{ records: Buffer; service: ServiceResolution }> {
    return { records, service: { translated: 0, gone: 0, eventsLost: 0, unavailable: 0, deferred: 0, dumpErrno: 0, replayed: false, unresolvedSamples: [] } };
  }

  ringAdvance(position: bigint): void {
    this.ring = this.ring.slice(Number(position) - this.ringStart);
    this.ringStart = Number(position);
  }
}
