// Puts a program on one hook of one interface and takes it off again, in the
// kernel's two ways: tcx links (6.6+) or a cls_bpf filter in direct-action
// mode on a clsact qdisc. Only what this process created is ever removed.
//
// Coexistence with a CNI (docs/coexistence.md): ours must run first on every
// hook, because a CNI's program ends the chain with a verdict (TC_ACT_OK,
// SHOT, REDIRECT) and nothing after it runs. Ours returns TC_ACT_UNSPEC /
// TCX_NEXT, so whatever runs after it decides exactly as it would alone.
import { rmSync } from 'node:fs';
import type { BpfObject, Direction, NativeAddon, TcFilterInfo } from '../native.js';
import type { QdiscRegistry } from './qdiscs.js';

export type AttachMode = 'tcx' | 'tc';

/** Our filter's identity on legacy TC: a handle no CNI uses, the first priority. */
export const TC_HANDLE = 0x4b41; // "KA"
export const TC_PRIORITY = 1;

export interface Attachment {
  ifindex: number;
  name: string;
  direction: Direction;
  program: string;
  mode: AttachMode;
  /** tcx: the link fd. */
  linkFd?: number;
  /** tc: whether we created the clsact qdisc (and so may remove it). */
  createdQdisc?: boolean;
  /** Other programs on the hook when we attached, all running after ours (e.g. the CNI's). */
  runsBefore: string[];
  /** Set when ours had to be moved back to the head: what ran before it (and may have hidden packets from it). */
  wasBehind?: string[];
}

/** Where ours stands on its hook, read from the kernel. */
export interface HookOrder {
  /** Programs that run before ours: a terminal verdict there hides packets from us. */
  ahead: string[];
  /** Programs that run after ours. */
  behind: string[];
  /** tc: our filter is not on the hook any more (someone deleted it or its qdisc). */
  missing?: boolean;
}

const hex = (n: number) => `0x${n.toString(16)}`;

export class Attacher {
  private ids: Map<string, number | undefined> | undefined;

  /**
   * linkPinDir: tcx links are pinned there, so they outlive the process
   * (restarts, rolling updates). qdiscs: the clsact qdiscs an agent created.
   */
  constructor(
    private readonly addon: NativeAddon,
    private readonly bpf: BpfObject,
    readonly mode: AttachMode,
    private readonly linkPinDir?: string,
    readonly qdiscs?: QdiscRegistry,
  ) {}

  private linkPin(ifindex: number, direction: Direction): string | undefined {
    return this.linkPinDir ? `${this.linkPinDir}/${ifindex}-${direction}` : undefined;
  }

  attach(ifindex: number, name: string, direction: Direction, program: string): Attachment {
    const base = { ifindex, name, direction, program, mode: this.mode };
    if (this.mode === 'tcx') {
      // BPF_F_BEFORE: the head of the chain, ahead of every program already there.
      // A live link pinned by an earlier agent gets the new program in place,
      // which keeps its place: behind a program put at the head since, it is
      // dropped and a new link goes to the head (the packets of that moment
      // were ended by the program ahead of ours anyway).
      const link = (): Attachment => ({ ...base, linkFd: this.bpf.attachTcx({ ifindex, direction, program, pinPath: this.linkPin(ifindex, direction) }), runsBefore: [] });
      let a = link();
      const { ahead } = this.order(a);
      if (ahead.length > 0) {
        this.detach(a);
        a = { ...link(), wasBehind: ahead };
      }
      return this.checkHead(a, `tcx ${direction} of ${name} (ifindex ${ifindex})`);
    }
    const where = `tc ${direction} of ${name} (ifindex ${ifindex})`;
    const filters = this.addon.listTcFilters(ifindex, direction);
    const atOurs = filters.find((f) => f.priority === TC_PRIORITY && f.handle === TC_HANDLE);
    if (atOurs && !this.isOurs(atOurs, program)) {
      throw new Error(`${where}: handle ${hex(TC_HANDLE)} at priority ${TC_PRIORITY} holds ${this.describe(atOurs)}, which is not ours; refusing to replace a filter we did not create`);
    }
    // All filters of one priority share one classifier: the kernel refuses a
    // cls_bpf filter next to another kind, and there is no priority before 1.
    const other = filters.find((f) => f.priority === TC_PRIORITY && f.kind !== 'bpf');
    if (other) {
      throw new Error(`${where}: priority ${TC_PRIORITY} is taken by a "${other.kind}" filter (handle ${hex(other.handle)}); ours must run first and cannot share that priority`);
    }
    const target = { ifindex, direction, handle: TC_HANDLE, priority: TC_PRIORITY };
    // Within one priority the kernel runs the newest filter first and a
    // replace keeps its place. Our own filter from an earlier instance is
    // replaced in place while it still runs first; behind someone else's it
    // is removed and added again, which puts it back at the head.
    const ahead = atOurs ? filters.slice(0, filters.indexOf(atOurs)) : [];
    const behindOthers = ahead.length > 0;
    if (behindOthers) this.bpf.detachTc({ ...target, destroyQdisc: false });
    const { createdQdisc } = this.bpf.attachTc({ ...target, program, replace: atOurs !== undefined && !behindOthers });
    if (createdQdisc) this.qdiscs?.add(ifindex);
    return this.checkHead({ ...base, createdQdisc, runsBefore: [], ...(behindOthers ? { wasBehind: ahead.map((f) => this.describe(f)) } : {}) }, where);
  }

  /** Someone inserted a program between our look and our attach: fail loudly, leave nothing. */
  private checkHead(a: Attachment, where: string): Attachment {
    const order = this.order(a);
    if (order.ahead.length > 0) {
      this.detach(a);
      throw new Error(`${where}: ${order.ahead.join(', ')} runs before ours, which would not see the packets it ends`);
    }
    a.runsBefore = order.behind;
    return a;
  }

  /** The programs before and after ours on the hook, now. */
  order(a: Attachment): HookOrder {
    const ourId = this.programId(a.program);
    if (a.mode === 'tcx') {
      const ids = this.addon.listTcxPrograms(a.ifindex, a.direction);
      const at = ids.indexOf(ourId ?? -1);
      const name = (id: number) => `${this.addon.programName(id) ?? '?'} (tcx, id ${id})`;
      return { ahead: ids.slice(0, Math.max(at, 0)).map(name), behind: ids.slice(at + 1).map(name) };
    }
    const filters = this.addon.listTcFilters(a.ifindex, a.direction);
    const at = filters.findIndex((f) => f.priority === TC_PRIORITY && f.handle === TC_HANDLE);
    // Filters of our hook that are not ours are ahead when ours is missing.
    const describe = (f: TcFilterInfo) => this.describe(f);
    if (at < 0) return { ahead: filters.map(describe), behind: [], missing: true };
    return { ahead: filters.slice(0, at).map(describe), behind: filters.slice(at + 1).map(describe) };
  }

  /**
   * Puts ours back at the head when another program got ahead of it since we
   * attached (a CNI attaching to a new pod's veth after us: in legacy TC the
   * newest filter of a priority runs first, in tcx a BPF_F_BEFORE link goes
   * first), or back on the hook when our filter was deleted. Returns the new
   * attachment and what was ahead, or null when ours is still first.
   */
  reassertHead(a: Attachment): { attachment: Attachment; wasBehind: string[] } | null {
    const { ahead, missing } = this.order(a);
    if (ahead.length === 0 && !missing) return null;
    // tc: attach() finds ours behind another filter and adds it again at the
    // head. tcx: a program is linked to a hook once, so the old link goes first.
    if (a.mode === 'tcx') this.detach(a);
    return { attachment: { ...this.attach(a.ifindex, a.name, a.direction, a.program), wasBehind: ahead }, wasBehind: ahead };
  }

  /** gone: the interface vanished with its hooks, only release our handles. */
  detach(a: Attachment, gone = false): void {
    if (a.mode === 'tcx') {
      const pin = this.linkPin(a.ifindex, a.direction);
      if (pin) rmSync(pin, { force: true });
      if (a.linkFd !== undefined) this.addon.closeFd(a.linkFd);
      return;
    }
    if (gone) return;
    const target = { ifindex: a.ifindex, direction: a.direction, handle: TC_HANDLE, priority: TC_PRIORITY };
    const filters = this.addon.listTcFilters(a.ifindex, a.direction);
    const atOurs = filters.find((f) => f.priority === TC_PRIORITY && f.handle === TC_HANDLE);
    // Someone else took our handle meanwhile: not ours to delete.
    if (atOurs && !this.isOurs(atOurs, a.program)) return;
    const othersLeft = filters.length - (atOurs ? 1 : 0) + this.addon.listTcFilters(a.ifindex, a.direction === 'ingress' ? 'egress' : 'ingress').length;
    // Removing the qdisc removes every filter on it: only when ours was the last.
    // The qdisc is one per interface, shared by both directions: it goes with
    // the last of our filters on it, when we created it and nobody else is there.
    const destroyQdisc = (this.qdiscs?.has(a.ifindex) ?? false) && othersLeft === 0;
    this.bpf.detachTc({ ...target, destroyQdisc });
    if (destroyQdisc) this.qdiscs?.delete(a.ifindex);
  }

  /** Lets go of an attachment but leaves it working (shutdown before an update). */
  release(a: Attachment): void {
    if (a.mode === 'tcx' && a.linkFd !== undefined) this.addon.closeFd(a.linkFd);
  }

  private isOurs(f: TcFilterInfo, program: string): boolean {
    return f.kind === 'bpf' && f.programId !== undefined && this.addon.programName(f.programId) === program;
  }

  private describe(f: TcFilterInfo): string {
    const what = f.programId !== undefined ? `${this.addon.programName(f.programId) ?? '?'} (id ${f.programId})` : `a ${f.kind ?? '?'} filter`;
    return `${what} at priority ${f.priority} handle ${hex(f.handle)}`;
  }

  private programId(program: string): number | undefined {
    this.ids ??= new Map(this.bpf.info().programs.map((p) => [p.name, p.id]));
    return this.ids.get(program);
  }
}
