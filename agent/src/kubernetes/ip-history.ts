// Who owned an address when: a short history per IP, so packets are attributed
// to the pod that had the address when they were counted, even when a new pod
// took the address over within the same collection interval. Times are when
// the agent learned of a change (a watch event), which is as close as it can
// know; the enrichment drains the flow maps when an address is released, so
// an interval rarely spans two owners (see EnrichedCluster).

export interface Ownership<T> {
  readonly owner: T;
  readonly fromMs: number;
  /** Infinity while it still owns the address. */
  untilMs: number;
}

/** Entries per address kept beyond the current one: churn faster than this within an interval is unusual. */
const KEEP = 4;

export class IpHistory<T> {
  private readonly byIp = new Map<string, Ownership<T>[]>();

  constructor(
    /** Ended ownerships older than this are forgotten (a few collection intervals). */
    private readonly retentionMs: number,
  ) {}

  get size(): number {
    return this.byIp.size;
  }

  /** `owner` has `ip` from `atMs` on; another current owner's time ends there. `same` says when two owners are one. */
  claim(ip: string, owner: T, atMs: number, same: (a: T, b: T) => boolean = Object.is): void {
    let list = this.byIp.get(ip);
    if (!list) this.byIp.set(ip, (list = []));
    const current = list[list.length - 1];
    if (current && current.untilMs === Infinity) {
      if (same(current.owner, owner)) {
        // Same owner, new facts (labels, node): replace in place, keep its start.
        list[list.length - 1] = { owner, fromMs: current.fromMs, untilMs: Infinity };
        return;
      }
      current.untilMs = atMs;
    }
    list.push({ owner, fromMs: atMs, untilMs: Infinity });
    if (list.length > KEEP + 1) list.splice(0, list.length - KEEP - 1);
  }

  /** `owner` gave `ip` up at `atMs` (deleted, or its status lost the address). */
  release(ip: string, owner: T, atMs: number, same: (a: T, b: T) => boolean = Object.is): void {
    const current = this.byIp.get(ip)?.at(-1);
    if (current && current.untilMs === Infinity && same(current.owner, owner)) current.untilMs = atMs;
  }

  /**
   * The owner for packets counted between `fromMs` and `toMs`: of the owners
   * whose time overlaps the interval, the one that held the address first
   * (packets of a pod that left within the interval were sent before its
   * successor existed); undefined when nobody owned it then.
   */
  lookup(ip: string, fromMs: number, toMs: number): T | undefined {
    const list = this.byIp.get(ip);
    if (!list) return undefined;
    for (const o of list) if (o.fromMs <= toMs && o.untilMs >= fromMs) return o.owner;
    return undefined;
  }

  /** The current owner, if any. */
  current(ip: string): T | undefined {
    const o = this.byIp.get(ip)?.at(-1);
    return o && o.untilMs === Infinity ? o.owner : undefined;
  }

  /** Drops ownerships that ended before `nowMs - retention`. */
  prune(nowMs: number): void {
    const before = nowMs - this.retentionMs;
    for (const [ip, list] of this.byIp) {
      const kept = list.filter((o) => o.untilMs >= before);
      if (!kept.length) this.byIp.delete(ip);
      else if (kept.length !== list.length) this.byIp.set(ip, kept);
    }
  }
}
