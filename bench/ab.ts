// A/B of two builds of the agent's BPF object on the hot path and the insert
// path, through BPF_PROG_TEST_RUN. Both objects are loaded in one process and
// run alternately (A, B, B, A, ...) in every round; the ratio B/A is taken
// within a round, so the VM's drift cancels out.
//   bash scripts/tsx.sh bench/ab.ts A.bpf.o B.bpf.o [rounds] [program[:ingressIfindex]]
// (default tc_pod_egress; tc_host_egress:2 is a forwarded packet leaving by an uplink)
// Build B from a changed copy of bpf/ (make -C <copy>), A from the committed one.
import { loadTestingAddon } from '../tests/helpers/testing-addon.js';
import { packetKinds } from './packets.js';
import { fmtSpread, spread, table } from './stats.js';

const [a, b, roundsArg, programArg] = process.argv.slice(2);
if (!a || !b) throw new Error('usage: bench/ab.ts A.bpf.o B.bpf.o [rounds] [program[:ingressIfindex]]');
const rounds = Number(roundsArg ?? 15);
const [program, ingress] = (programArg ?? 'tc_pod_egress').split(':');
const REPEAT = 1_000_000;
const INSERTS = 2000;

const addon = loadTestingAddon();
const objects = [a, b].map((objectPath) => new addon.BpfObject({ objectPath, maxFlows: 65536, ringbufBytes: 1 << 20 }));
const run = (i: number, packet: Buffer, repeat: number) =>
  objects[i]!.testRun({ program: program!, packet, repeat, ...(ingress ? { ingressIfindex: Number(ingress) } : {}) }).durationNs;
const clear = async () => {
  for (const o of objects) {
    await o.drain();
    await o.drain();
  }
};

const rows: (string | number)[][] = [['packet', 'A hot ns', 'B hot ns', 'B/A hot', 'A insert ns', 'B insert ns', 'B/A insert']];
try {
  for (const kind of packetKinds()) {
    const hot: number[][] = [[], []];
    const ins: number[][] = [[], []];
    const hotRatio: number[] = [];
    const insRatio: number[] = [];
    for (let r = 0; r < rounds; r++) {
      await clear();
      const order = r % 2 ? [1, 0] : [0, 1];
      for (const i of order) run(i, kind.packet, 1000);
      const h = [0, 0];
      for (const i of [...order, ...[...order].reverse()]) h[i]! += run(i, kind.packet, REPEAT) / 2;
      hot[0]!.push(h[0]!);
      hot[1]!.push(h[1]!);
      hotRatio.push(h[1]! / h[0]!);

      await clear();
      const per: number[][] = [[], []];
      const pkt = Buffer.from(kind.packet);
      for (let n = 0; n < INSERTS; n++) {
        pkt.writeUInt16BE(1024 + n, kind.srcPortOffset);
        for (const i of order) per[i]!.push(run(i, pkt, 1));
      }
      const m = per.map((v) => spread(v).median);
      ins[0]!.push(m[0]!);
      ins[1]!.push(m[1]!);
      insRatio.push(m[1]! / m[0]!);
    }
    const med = (v: number[]) => Math.round(spread(v).median * 10) / 10;
    rows.push([kind.name, med(hot[0]!), med(hot[1]!), fmtSpread(spread(hotRatio), 3), med(ins[0]!), med(ins[1]!), fmtSpread(spread(insRatio), 3)]);
  }
} finally {
  for (const o of objects) o.close();
}
console.log(`A = ${a}\nB = ${b}\n${program}${ingress ? ` (ingress ifindex ${ingress})` : ''}, ${rounds} rounds; ratios B/A within a round: median [min-max]\n`);
console.log(table(rows));
