// The clsact qdiscs this agent created (legacy TC mode), kept in the pinned
// tc_qdiscs map: a restarted agent or `cleanup` removes those and no others.
import type { BpfObject } from '../native.js';

const key = (ifindex: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(ifindex);
  return b;
};
const ONE = Buffer.from([1, 0, 0, 0]);

export class QdiscRegistry {
  private readonly created = new Set<number>();

  constructor(private readonly bpf: BpfObject) {}

  async load(): Promise<this> {
    const { keys, count } = await this.bpf.readMap('tc_qdiscs');
    for (let i = 0; i < count; i++) this.created.add(keys.readUInt32LE(i * 4));
    return this;
  }

  has(ifindex: number): boolean {
    return this.created.has(ifindex);
  }

  add(ifindex: number): void {
    this.bpf.updateEntry('tc_qdiscs', key(ifindex), ONE);
    this.created.add(ifindex);
  }

  delete(ifindex: number): void {
    if (!this.created.delete(ifindex)) return;
    this.bpf.deleteEntry('tc_qdiscs', key(ifindex));
  }

  /** Entries of interfaces that are gone: their ifindex may come back on someone else's device. */
  forgetAllBut(present: ReadonlySet<number>): void {
    for (const ifindex of [...this.created]) if (!present.has(ifindex)) this.delete(ifindex);
  }

  all(): number[] {
    return [...this.created];
  }
}
