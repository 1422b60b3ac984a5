// Per-packet cost through BPF_PROG_TEST_RUN: tc_pod_egress against an empty TC
// program and the parse-plus-one-map-update floors of bench/floor.bpf.c. The
// programs run interleaved in every round, on one pinned CPU, and each ratio is taken within a
// round, so drift of the VM's clock and neighbours cancels out.
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { DEFAULT_OBJECT_PATH } from '../agent/src/addon.js';
import { loadTestingAddon as loadAddon } from '../tests/helpers/testing-addon.js';
import { packetKinds } from './packets.js';
import { spread, type Spread } from './stats.js';

export const FLOOR_OBJECT = new URL('./build/floor.bpf.o', import.meta.url).pathname;
const TC_ACT_UNSPEC = -1;
const PROGRAMS = ['empty', 'floor_percpu', 'floor_shared', 'ours'] as const;
type Program = (typeof PROGRAMS)[number];

export interface PerPacketOptions {
  rounds: number;
  /** BPF_PROG_TEST_RUN repeat count of one hot-path measurement. */
  repeat: number;
  /** New flows per program per round on the insert path. */
  inserts: number;
}

export interface KindResult {
  kind: string;
  bytes: number;
  /** ns per packet, median and min-max over rounds. */
  hot: Record<Program, Spread>;
  insert: Record<Program, Spread>;
  /** Ratios taken within each round, then summarised. */
  hotVsPercpu: Spread;
  hotVsShared: Spread;
  hotVsEmpty: Spread;
  insertVsPercpu: Spread;
}

/**
 * Pins the calling (main) thread to one CPU for fn: BPF_PROG_TEST_RUN runs on
 * it synchronously, and a migration in the middle of a measurement is noise.
 */
async function onOneCpu<T>(fn: () => Promise<T>): Promise<T> {
  const cpu = String(availableParallelism() - 1);
  const before = spawnSync('taskset', ['-p', String(process.pid)], { encoding: 'utf8' }).stdout.trim().split(/\s+/).pop();
  const pin = spawnSync('taskset', ['-p', '-c', cpu, String(process.pid)], { encoding: 'utf8' });
  if (pin.status !== 0) throw new Error(`taskset -p -c ${cpu} ${process.pid} exited ${pin.status}: ${pin.stderr}`);
  try {
    return await fn();
  } finally {
    if (before) spawnSync('taskset', ['-p', before, String(process.pid)]);
  }
}

export function runPerPacket(o: PerPacketOptions): Promise<KindResult[]> {
  return onOneCpu(() => measure(o));
}

async function measure(o: PerPacketOptions): Promise<KindResult[]> {
  const addon = loadAddon();
  const ours = new addon.BpfObject({ objectPath: DEFAULT_OBJECT_PATH, maxFlows: 65536, ringbufBytes: 1 << 20 });
  const floor = addon.benchLoadObject(FLOOR_OBJECT);
  try {
    const fd = (name: string) => {
      const v = floor.programs[name] ?? floor.maps[name];
      if (v === undefined) throw new Error(`${FLOOR_OBJECT} has no ${name}: rebuild it (make -C bench)`);
      return v;
    };
    const run = (p: Program, packet: Buffer, repeat: number): number => {
      const r = p === 'ours'
        ? ours.testRun({ program: 'tc_pod_egress', packet, repeat })
        : addon.benchTestRun(fd(`tc_${p}`), packet, repeat);
      if (r.retval !== TC_ACT_UNSPEC) throw new Error(`${p} returned ${r.retval}, not TC_ACT_UNSPEC`);
      return r.durationNs;
    };
    const clear = async () => {
      // Two drains empty both slots of ours; the floors' maps by batch delete.
      await ours.drain();
      await ours.drain();
      addon.benchDrainFloor(fd('floor_percpu'));
      addon.benchDrainFloor(fd('floor_shared'));
    };

    const results: KindResult[] = [];
      for (const kind of packetKinds()) {
        const hot = Object.fromEntries(PROGRAMS.map((p) => [p, [] as number[]])) as Record<Program, number[]>;
        const insert = Object.fromEntries(PROGRAMS.map((p) => [p, [] as number[]])) as Record<Program, number[]>;
        const ratios = { percpu: [] as number[], shared: [] as number[], empty: [] as number[], insert: [] as number[] };
        for (let r = 0; r < o.rounds; r++) {
          await clear();
          // Warm: the first run inserts the flow, the measured ones hit it.
          for (const p of PROGRAMS) run(p, kind.packet, 1000);
          const h = {} as Record<Program, number>;
          for (const p of PROGRAMS) h[p] = run(p, kind.packet, o.repeat);
          for (const p of PROGRAMS) hot[p].push(h[p]);
          ratios.percpu.push(h.ours / h.floor_percpu);
          ratios.shared.push(h.ours / h.floor_shared);
          ratios.empty.push(h.ours / h.empty);

          await clear();
          const ins = {} as Record<Program, number[]>;
          for (const p of PROGRAMS) ins[p] = [];
          const pkt = Buffer.from(kind.packet);
          for (let i = 0; i < o.inserts; i++) {
            pkt.writeUInt16BE(1024 + i, kind.srcPortOffset);
            for (const p of PROGRAMS) ins[p].push(run(p, pkt, 1));
          }
          const med = {} as Record<Program, number>;
          for (const p of PROGRAMS) {
            med[p] = spread(ins[p]).median;
            insert[p].push(med[p]);
          }
          ratios.insert.push(med.ours / med.floor_percpu);
        }
        const sum = (m: Record<Program, number[]>) => Object.fromEntries(PROGRAMS.map((p) => [p, spread(m[p])])) as Record<Program, Spread>;
        results.push({
          kind: kind.name,
          bytes: kind.packet.length,
          hot: sum(hot),
          insert: sum(insert),
          hotVsPercpu: spread(ratios.percpu),
          hotVsShared: spread(ratios.shared),
          hotVsEmpty: spread(ratios.empty),
          insertVsPercpu: spread(ratios.insert),
        });
      }
      return results;
  } finally {
    ours.close();
    addon.benchCloseObjects();
  }
}
