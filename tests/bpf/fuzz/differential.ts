// Runs generated frames through tc_pod_egress or tc_host_egress
// (BPF_PROG_TEST_RUN) and compares every one with the reference parser.
//
// Speed: a test run is a few µs in the kernel; reading the maps after each frame
// would cost far more, and so would one addon call per frame. Frames are grouped
// by the reference's outcome and run in batches, one testRunBatch call each: a
// batch the kernel must refuse must fail every frame with EINVAL and move
// nothing; a batch of frames the reference ignores for one reason must move that
// reason's counter by exactly the batch size, nothing else, and leave the flow
// map empty; a batch of counted frames (distinct flow keys, so no two frames
// share an entry) must leave exactly the expected entries with exactly the
// expected bytes and packets, and no counter moved. Since the program puts each
// frame in exactly one place, a batch that matches means every frame matched
// (short of two frames trading keys with equal counts). A batch that does not
// match is re-run frame by frame to name the frames that disagree.
import { constants } from 'node:os';
import { AGENT_STATS } from '../../../agent/src/bpf/stats.js';
import type { TestingBpfObject } from '../../helpers/testing-addon.js';
import { type Case, type Category } from './generate.js';
import { REASONS, referenceFor, type Gso, type Outcome, type Program, type Reason } from './reference.js';

const TC_ACT_UNSPEC = -1;
const EINVAL = constants.errno.EINVAL;
const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));
const RECORD = 72; // flow_key + flow_stats
const MAX_OPEN_BATCHES = 8;

interface CountedBatch {
  cases: Case[];
  /** flow key (latin1) -> [bytes, packets] the reference expects. */
  expected: Map<string, [number, number]>;
}

export interface Disagreement {
  category: Category;
  frameHex: string;
  gso: Gso;
  expected: string;
  observed: string;
}

export interface CategoryCounts {
  cases: number;
  counted: number;
  refused: number;
  ignored: Record<Reason, number>;
}

const reasonIndex = Object.fromEntries(REASONS.map((r) => [r, AGENT_STATS.indexOf(r)])) as Record<Reason, number>;

export function describe(o: Outcome): string {
  if (o.kind === 'refused') return `refused by the test run (${o.why})`;
  if (o.kind === 'ignored') return `${o.reason} (${o.why})`;
  return `counted key=${o.key.toString('hex')} bytes=${o.bytes} packets=${o.packets}`;
}

/** What the program did with one frame, from the counters and the flow map. */
export type Observed =
  | { kind: 'refused'; code: string }
  | { kind: 'verdict'; retval: number }
  | { kind: 'ignored'; reason: string }
  | { kind: 'counted'; key: Buffer; bytes: number; packets: number }
  | { kind: 'other'; what: string };

export function describeObserved(o: Observed): string {
  switch (o.kind) {
    case 'refused': return `refused by the test run (${o.code})`;
    case 'verdict': return `verdict ${o.retval}, not TC_ACT_UNSPEC`;
    case 'ignored': return o.reason;
    case 'counted': return `counted key=${o.key.toString('hex')} bytes=${o.bytes} packets=${o.packets}`;
    case 'other': return o.what;
  }
}

/** Same outcome? Reasons compare by name, counted frames by key, bytes and packets. */
export function agrees(e: Outcome, o: Observed): boolean {
  if (e.kind === 'refused') return o.kind === 'refused' && o.code === 'EINVAL';
  if (e.kind === 'ignored') return o.kind === 'ignored' && o.reason === e.reason;
  return o.kind === 'counted' && o.key.equals(e.key) && o.bytes === e.bytes && o.packets === e.packets;
}

export class Differential {
  readonly counts = new Map<Category, CategoryCounts>();
  readonly disagreements: Disagreement[] = [];
  frames = 0;
  private readonly ignoredBatches = new Map<Reason, Case[]>();
  /** Open batches of counted frames, each with distinct keys: a frame goes to the first that lacks its key. */
  private countedBatches: CountedBatch[] = [];
  private refusedBatch: Case[] = [];
  private stats: number[];

  private readonly reference: (f: Buffer, gso: Gso) => Outcome;

  constructor(private readonly bpf: TestingBpfObject, private readonly batchSize = 512, readonly program: Program = 'tc_pod_egress') {
    this.stats = bpf.stats();
    this.reference = referenceFor(program);
  }

  private tally(c: Case, e: Outcome): void {
    let t = this.counts.get(c.category);
    if (!t) {
      t = { cases: 0, counted: 0, refused: 0, ignored: { ignored_non_ip: 0, ignored_other_l4: 0, ignored_truncated: 0, ignored_ext_limit: 0, skipped_encap: 0 } };
      this.counts.set(c.category, t);
    }
    t.cases++;
    if (e.kind === 'counted') t.counted++;
    else if (e.kind === 'refused') t.refused++;
    else t.ignored[e.reason]++;
  }

  /** Queues a case; runs a batch when one is full. */
  async add(c: Case): Promise<void> {
    const e = this.reference(c.frame, c.gso);
    this.tally(c, e);
    this.frames++;
    if (e.kind === 'refused') {
      this.refusedBatch.push(c);
      if (this.refusedBatch.length >= this.batchSize) await this.flushRefused();
      return;
    }
    if (e.kind === 'ignored') {
      let b = this.ignoredBatches.get(e.reason);
      if (!b) this.ignoredBatches.set(e.reason, (b = []));
      b.push(c);
      if (b.length >= this.batchSize) await this.flushIgnored(e.reason);
      return;
    }
    const key = e.key.toString('latin1');
    let b = this.countedBatches.find((x) => !x.expected.has(key));
    if (!b) {
      // Frames of few flows (fragments share port 0): more open batches, not smaller ones.
      if (this.countedBatches.length >= MAX_OPEN_BATCHES) await this.flushCounted(this.countedBatches.shift()!);
      b = { cases: [], expected: new Map() };
      this.countedBatches.push(b);
    }
    b.cases.push(c);
    b.expected.set(key, [e.bytes, e.packets]);
    if (b.cases.length >= this.batchSize) {
      this.countedBatches.splice(this.countedBatches.indexOf(b), 1);
      await this.flushCounted(b);
    }
  }

  async flush(): Promise<void> {
    await this.flushRefused();
    for (const reason of [...this.ignoredBatches.keys()]) await this.flushIgnored(reason);
    for (const b of this.countedBatches.splice(0)) await this.flushCounted(b);
  }

  /** Runs one frame; a refusal or a verdict other than TC_ACT_UNSPEC is the observation. */
  private runOne(c: Case): Observed {
    try {
      const { retval } = this.bpf.testRun({ program: this.program, packet: c.frame, gsoSize: c.gso.size, gsoSegs: c.gso.segs });
      return retval === TC_ACT_UNSPEC ? { kind: 'other', what: 'ran' } : { kind: 'verdict', retval };
    } catch (err) {
      return { kind: 'refused', code: (err as { code?: string }).code ?? String(err) };
    }
  }

  /**
   * Runs every frame of a batch in one addon call; false when a frame was
   * refused (or, in a refused batch, was not) or got another verdict (recorded).
   */
  private runBatch(cases: Case[], refused = false): boolean {
    const ends = new Uint32Array(cases.length);
    const gsoSize = new Uint32Array(cases.length);
    const gsoSegs = new Uint32Array(cases.length);
    let end = 0;
    cases.forEach((c, i) => {
      ends[i] = end += c.frame.length;
      gsoSize[i] = c.gso.size;
      gsoSegs[i] = c.gso.segs;
    });
    const frames = Buffer.concat(cases.map((c) => c.frame), end);
    const { retvals, errnos } = this.bpf.testRunBatch({ program: this.program, frames, ends, gsoSize, gsoSegs });
    let clean = true;
    cases.forEach((c, i) => {
      const errno = errnos[i]!;
      let o: Observed | undefined;
      if (errno !== 0) o = refused && errno === EINVAL ? undefined : { kind: 'refused', code: ERRNO_NAMES.get(errno) ?? `errno ${errno}` };
      else if (refused) o = { kind: 'other', what: 'ran (the kernel took the frame)' };
      else if (retvals[i] !== TC_ACT_UNSPEC) o = { kind: 'verdict', retval: retvals[i]! };
      if (o) {
        this.record(c, this.reference(c.frame, c.gso), o);
        clean = false;
      }
    });
    return clean;
  }

  private statDelta(): number[] {
    const now = this.bpf.stats();
    const d = now.map((v, i) => v - (this.stats[i] ?? 0));
    this.stats = now;
    return d;
  }

  /** Empties the slot the programs wrote: flip it away, then drain it (no program runs meanwhile: test runs are synchronous). */
  private async takeFlows(): Promise<Buffer> {
    const ctl = this.bpf.control();
    this.bpf.setControl({ ...ctl, activeSlot: ctl.activeSlot ^ 1 });
    const { records } = await this.bpf.drain({ flip: false });
    return records;
  }

  /** Frames the kernel must refuse: each with EINVAL, and no counter or flow moved. */
  private async flushRefused(): Promise<void> {
    const cases = this.refusedBatch;
    if (cases.length === 0) return;
    this.refusedBatch = [];
    this.runBatch(cases, true);
    const delta = this.statDelta();
    const flows = await this.takeFlows();
    if (flows.length !== 0 || delta.some((v) => v !== 0)) await this.bisect(cases);
  }

  private async flushIgnored(reason: Reason): Promise<void> {
    const cases = this.ignoredBatches.get(reason) ?? [];
    if (cases.length === 0) return;
    this.ignoredBatches.set(reason, []);
    const clean = this.runBatch(cases);
    const delta = this.statDelta();
    const flows = await this.takeFlows();
    const ok = clean && flows.length === 0 && delta.every((v, i) => v === (i === reasonIndex[reason] ? cases.length : 0));
    if (!ok) await this.bisect(cases);
  }

  private async flushCounted(b: CountedBatch): Promise<void> {
    if (b.cases.length === 0) return;
    const clean = this.runBatch(b.cases);
    const delta = this.statDelta();
    const flows = await this.takeFlows();
    let ok = clean && delta.every((v) => v === 0) && flows.length === b.cases.length * RECORD;
    for (let at = 0; ok && at < flows.length; at += RECORD) {
      const want = b.expected.get(flows.toString('latin1', at, at + 40));
      ok = want !== undefined && want[0] === Number(flows.readBigUInt64LE(at + 40)) && want[1] === Number(flows.readBigUInt64LE(at + 48));
    }
    if (!ok) await this.bisect(b.cases);
  }

  /** Frame by frame: the maps and counters are read after each one. */
  private async bisect(cases: Case[]): Promise<void> {
    for (const c of cases) {
      const e = this.reference(c.frame, c.gso);
      const o = await this.observe(c);
      if (!agrees(e, o)) this.record(c, e, o);
    }
  }

  /** One frame, its outcome read exactly from the counters and the flow map. */
  async observe(c: Case): Promise<Observed> {
    this.statDelta();
    await this.takeFlows();
    const run = this.runOne(c);
    const delta = this.statDelta();
    const flows = await this.takeFlows();
    if (run.kind !== 'other') return run;
    const moved = delta.map((v, i) => [AGENT_STATS[i]!, v] as const).filter(([, v]) => v !== 0);
    if (flows.length === 0 && moved.length === 1 && moved[0]![1] === 1) return { kind: 'ignored', reason: moved[0]![0] };
    if (flows.length === RECORD && moved.length === 0) {
      return { kind: 'counted', key: Buffer.from(flows.subarray(0, 40)), bytes: Number(flows.readBigUInt64LE(40)), packets: Number(flows.readBigUInt64LE(48)) };
    }
    return { kind: 'other', what: `${flows.length / RECORD} flow entries, counters moved: ${moved.map(([n, v]) => `${n}+${v}`).join(' ') || 'none'}` };
  }

  private record(c: Case, e: Outcome, o: Observed): void {
    this.disagreements.push({ category: c.category, frameHex: c.frame.toString('hex'), gso: c.gso, expected: describe(e), observed: describeObserved(o) });
  }

  /** A kind-level name of a disagreement, stable under minimization. */
  static signature(e: Outcome, o: Observed): string {
    const ek = e.kind === 'ignored' ? e.reason : e.kind;
    const ok = o.kind === 'ignored' ? o.reason : o.kind;
    if (e.kind === 'counted' && o.kind === 'counted') {
      const what = [!o.key.equals(e.key) && 'key', o.bytes !== e.bytes && 'bytes', o.packets !== e.packets && 'packets'].filter(Boolean).join('+');
      return `counted, wrong ${what}`;
    }
    return `${ek} -> ${ok}`;
  }

  /**
   * The smallest frame found that still disagrees the same way: shortest
   * prefix first, then every byte zeroed where that keeps the disagreement.
   */
  async minimize(c: Case, budget = 2000): Promise<Case> {
    const sig = async (x: Case) => {
      const e = this.reference(x.frame, x.gso);
      const o = await this.observe(x);
      return agrees(e, o) ? undefined : Differential.signature(e, o);
    };
    const target = await sig(c);
    if (!target) return c;
    let best = c;
    let tries = 0;
    for (let n = 14; n < best.frame.length && tries < budget; n++, tries++) {
      const x = { ...best, frame: Buffer.from(best.frame.subarray(0, n)) };
      if ((await sig(x)) === target) {
        best = x;
        break;
      }
    }
    for (let i = best.frame.length - 1; i >= 0 && tries < budget; i--) {
      if (best.frame[i] === 0) continue;
      tries++;
      const f = Buffer.from(best.frame);
      f[i] = 0;
      const x = { ...best, frame: f };
      if ((await sig(x)) === target) best = x;
    }
    for (const gso of [{ size: 0, segs: 0 }, { size: best.gso.size, segs: 0 }, { size: 0, segs: best.gso.segs }]) {
      if (tries++ >= budget || (gso.size === best.gso.size && gso.segs === best.gso.segs)) continue;
      const x = { ...best, gso };
      if ((await sig(x)) === target) best = x;
    }
    return best;
  }
}
