// Puts a program on one hook of one interface and takes it off again, in the
// kernel's two ways: tcx links (6.6+) or a cls_bpf filter in direct-action
// mode on a clsact qdisc. Only what this process created is ever removed.
import type { BpfObject, Direction, NativeAddon } from '../native.js';

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
}

export class Attacher {
  constructor(
    private readonly addon: NativeAddon,
    private readonly bpf: BpfObject,
    readonly mode: AttachMode,
  ) {}

  attach(ifindex: number, name: string, direction: Direction, program: string): Attachment {
    if (this.mode === 'tcx') {
      const linkFd = this.bpf.attachTcx({ ifindex, direction, program });
      return { ifindex, name, direction, program, mode: 'tcx', linkFd };
    }
    const target = { ifindex, direction, handle: TC_HANDLE, priority: TC_PRIORITY };
    // Our own filter left by an earlier instance of the agent is replaced in
    // place; the handle identifies it, nothing else is touched.
    const existing = this.bpf.queryTc(target);
    const { createdQdisc } = this.bpf.attachTc({ ...target, program, replace: existing !== null });
    return { ifindex, name, direction, program, mode: 'tc', createdQdisc };
  }

  /** gone: the interface vanished with its hooks, only release our handles. */
  detach(a: Attachment, gone = false): void {
    if (a.mode === 'tcx') {
      if (a.linkFd !== undefined) this.addon.closeFd(a.linkFd);
      return;
    }
    if (gone) return;
    this.bpf.detachTc({
      ifindex: a.ifindex, direction: a.direction, handle: TC_HANDLE, priority: TC_PRIORITY,
      destroyQdisc: a.createdQdisc === true,
    });
  }
}
