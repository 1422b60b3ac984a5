// One flow sent from two CPUs at once (a pod's threads on two cores): the
// shared flow entry takes atomic adds from both, its cache line moving
// between them, where a per-CPU map gives each CPU its own value and no
// atomics. BPF_PROG_TEST_RUN on one thread per CPU, started together, against
// the same programs run on one CPU alone; rounds alternate the programs.
import { DEFAULT_OBJECT_PATH } from '../agent/src/addon.js';
import { loadTestingAddon } from '../tests/helpers/testing-addon.js';
import { FLOOR_OBJECT } from './perpacket.js';
import { packetKinds } from './packets.js';
import { spread, type Spread } from './stats.js';

export interface ContentionOptions {
  rounds: number;
  repeat: number;
}

const PROGRAMS = ['floor_percpu', 'floor_shared', 'ours'] as const;
type Program = (typeof PROGRAMS)[number];

export interface ContentionResult {
  packet: string;
  cpus: number[];
  /** ns per packet on one CPU alone, and on each of two CPUs at once (mean of the two). */
  single: Record<Program, Spread>;
  parallel: Record<Program, Spread>;
  /** parallel / single of the same program, per round. */
  slowdown: Record<Program, Spread>;
  /** ours / per-CPU floor, both on two CPUs at once, per round. */
  oursVsPercpuParallel: Spread;
}

export async function runContention(o: ContentionOptions): Promise<ContentionResult> {
  const addon = loadTestingAddon();
  const floor = addon.benchLoadObject(FLOOR_OBJECT);
  const ours = addon.benchLoadObject(DEFAULT_OBJECT_PATH);
  try {
    const fd: Record<Program, number> = {
      floor_percpu: floor.programs.tc_floor_percpu!,
      floor_shared: floor.programs.tc_floor_shared!,
      ours: ours.programs.tc_pod_egress!,
    };
    const kind = packetKinds().find((k) => k.name === 'ipv4-udp-512B')!;
    const cpus = [0, 1];
    const single = Object.fromEntries(PROGRAMS.map((p) => [p, [] as number[]])) as Record<Program, number[]>;
    const parallel = Object.fromEntries(PROGRAMS.map((p) => [p, [] as number[]])) as Record<Program, number[]>;
    const slowdown = Object.fromEntries(PROGRAMS.map((p) => [p, [] as number[]])) as Record<Program, number[]>;
    const vsPercpu: number[] = [];
    for (let r = 0; r < o.rounds; r++) {
      const order = r % 2 ? [...PROGRAMS].reverse() : [...PROGRAMS];
      const s = {} as Record<Program, number>;
      const p = {} as Record<Program, number>;
      for (const prog of order) {
        addon.benchTestRunParallel(fd[prog], kind.packet, 1000, cpus);
        s[prog] = addon.benchTestRunParallel(fd[prog], kind.packet, o.repeat, [cpus[1]!])[0]!;
        const both = addon.benchTestRunParallel(fd[prog], kind.packet, o.repeat, cpus);
        p[prog] = both.reduce((a, b) => a + b, 0) / both.length;
      }
      for (const prog of PROGRAMS) {
        single[prog].push(s[prog]);
        parallel[prog].push(p[prog]);
        slowdown[prog].push(p[prog] / s[prog]);
      }
      vsPercpu.push(p.ours / p.floor_percpu);
    }
    const sum = (m: Record<Program, number[]>) => Object.fromEntries(PROGRAMS.map((p) => [p, spread(m[p])])) as Record<Program, Spread>;
    return { packet: kind.name, cpus, single: sum(single), parallel: sum(parallel), slowdown: sum(slowdown), oursVsPercpuParallel: spread(vsPercpu) };
  } finally {
    addon.benchCloseObjects();
  }
}
