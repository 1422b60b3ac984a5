// Keeps the programs attached to exactly the hooks the interfaces' roles call
// for (roles.ts), following rtnetlink as links and routes appear, change and
// vanish.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Direction, LinkInfo, NativeAddon } from '../native.js';
import type { Logger } from '../log.js';
import type { Attacher, Attachment } from './attacher.js';
import { decideRoles, type HookPlan, type RoleDecision, type UplinkSetting } from './roles.js';

export interface DiscoveryEvents {
  onAttachError(link: LinkInfo, err: unknown): void;
  onChange(attachedInterfaces: number): void;
  /** Ours was found behind another program on a hook and moved back to the head. */
  onReorder?(a: Attachment): void;
}

/** How often ours is checked to still run first on every hook: one netlink dump or bpf query per hook. */
const KEEP_FIRST_INTERVAL_MS = 1000;

const hookKey = (ifindex: number, direction: Direction) => `${ifindex}/${direction}`;

export class InterfaceDiscovery {
  private readonly attached = new Map<string, Attachment>();
  private monitor: { close(): void } | undefined;
  private pending: NodeJS.Immediate | undefined;
  private orderCheck: NodeJS.Timeout | undefined;
  /** The last role logged per ifindex: a role is logged when first seen and when it changes. */
  private readonly roles = new Map<number, string>();

  constructor(
    private readonly addon: NativeAddon,
    private readonly attacher: Attacher,
    private readonly log: Logger,
    private readonly events: DiscoveryEvents,
    /** Where tcx links are pinned: pins of vanished devices are swept from it. */
    private readonly linkPinDir?: string,
    /** EBPF_UPLINK_INTERFACES. */
    private readonly uplinks: UplinkSetting = 'auto',
  ) {}

  start(): void {
    this.monitor = new this.addon.LinkMonitor(() => this.scheduleSync());
    this.sync();
    this.orderCheck = setInterval(() => this.keepFirst(), KEEP_FIRST_INTERVAL_MS);
    this.orderCheck.unref();
  }

  /**
   * A CNI that attaches to a hook after us runs before ours and, with a
   * verdict for every packet, hides the pod's traffic from us: put ours back
   * at the head (docs/coexistence.md).
   */
  keepFirst(): void {
    for (const [key, a] of this.attached) {
      try {
        const moved = this.attacher.reassertHead(a);
        if (!moved) continue;
        this.attached.set(key, moved.attachment);
        this.reordered(moved.attachment);
      } catch (err) {
        // The interface went away between two rtnetlink events (a pod
        // deleted): nothing to move; the pending sync releases it.
        if ((err as { code?: string }).code === 'ENODEV') continue;
        // Off the hook now: the next sync attaches it again and reports a failure.
        this.attached.delete(key);
        this.log.warn('moving ours back to the head failed', { interface: a.name, ifindex: a.ifindex, direction: a.direction, err });
        this.scheduleSync();
      }
    }
  }

  /**
   * Bursts of link events (a pod start makes several) become one relist, on
   * the next turn of the event loop: a delay here is time a new pod's first
   * packets go uncounted (tests/e2e/churn measured the attach latency).
   */
  private scheduleSync(): void {
    if (this.pending) return;
    this.pending = setImmediate(() => {
      this.pending = undefined;
      this.sync();
    });
  }

  sync(): void {
    const links = this.addon.listLinks();
    const present = new Map(links.map((l) => [l.ifindex, l]));
    const wanted = new Map<string, { link: LinkInfo; plan: HookPlan }>();
    for (const d of decideRoles(links, this.addon.listRoutes(), this.uplinks)) {
      this.logRole(d);
      for (const plan of d.hooks) wanted.set(hookKey(d.ifindex, plan.direction), { link: present.get(d.ifindex)!, plan });
    }
    for (const ifindex of this.roles.keys()) if (!present.has(ifindex)) this.roles.delete(ifindex);
    for (const [key, a] of this.attached) {
      const w = wanted.get(key);
      if (w && w.link.name === a.name && w.plan.program === a.program) continue;
      this.attached.delete(key);
      try {
        this.attacher.detach(a, !present.has(a.ifindex));
      } catch (err) {
        this.log.debug('detach after link change failed', { interface: a.name, err });
      }
      this.log.info('hook released', { interface: a.name, ifindex: a.ifindex, direction: a.direction });
    }
    for (const [key, { link, plan }] of wanted) {
      if (this.attached.has(key)) continue;
      try {
        const a = this.attacher.attach(link.ifindex, link.name, plan.direction, plan.program);
        this.attached.set(key, a);
        this.log.info('attached', { interface: link.name, ifindex: link.ifindex, program: plan.program, direction: plan.direction, mode: a.mode, runsBefore: a.runsBefore });
        if (a.wasBehind) this.reordered(a);
      } catch (err) {
        // A link deleted between the dump and the attach is not an error.
        if ((err as { code?: string }).code === 'ENODEV' || !this.addon.listLinks().some((l) => l.ifindex === link.ifindex)) continue;
        this.events.onAttachError(link, err);
      }
    }
    this.sweepLinkPins(present);
    this.attacher.qdiscs?.forgetAllBut(new Set(present.keys()));
    this.events.onChange(new Set([...this.attached.values()].map((a) => a.ifindex)).size);
  }

  /**
   * Every interface's role and why, once when it is first seen and again when
   * it changes (routes through a veth appeared): a wrong guess shows in the log.
   */
  private logRole(d: RoleDecision): void {
    const key = `${d.name}|${d.role}|${d.why}`;
    if (this.roles.get(d.ifindex) === key) return;
    const changed = this.roles.has(d.ifindex);
    this.roles.set(d.ifindex, key);
    this.log.info(changed ? 'interface role changed' : 'interface role', {
      interface: d.name, ifindex: d.ifindex, role: d.role, hooks: d.hooks.map((h) => h.direction), why: d.why,
    });
  }

  /** A pinned tcx link outlives its device; drop pins nothing of ours uses. */
  private sweepLinkPins(present: ReadonlyMap<number, LinkInfo>): void {
    const dir = this.linkPinDir;
    if (!dir || !existsSync(dir)) return;
    for (const name of readdirSync(dir)) {
      const [ifindex, direction] = name.split('-');
      if (this.attached.has(`${ifindex}/${direction}`)) continue;
      const live = this.addon.tcxPinnedLinkIfindex(join(dir, name));
      if (live === null || live === 0 || !present.has(live)) {
        rmSync(join(dir, name), { force: true });
        this.log.debug('removed a stale link pin', { pin: name });
      }
    }
  }

  private reordered(a: Attachment): void {
    this.log.warn('moved ours back to the head of the hook', { interface: a.name, ifindex: a.ifindex, direction: a.direction, wasBehind: a.wasBehind, runsBefore: a.runsBefore });
    this.events.onReorder?.(a);
  }

  /**
   * Stops following links. keep: leave every program working (a restart or
   * rolling update follows); otherwise take every program off again.
   */
  stop(keep = false): void {
    if (this.orderCheck) clearInterval(this.orderCheck);
    this.orderCheck = undefined;
    if (this.pending) clearImmediate(this.pending);
    this.pending = undefined;
    this.monitor?.close();
    this.monitor = undefined;
    const present = new Set(this.addon.listLinks().map((l) => l.ifindex));
    for (const a of this.attached.values()) {
      try {
        if (keep) this.attacher.release(a);
        else this.attacher.detach(a, !present.has(a.ifindex));
      } catch (err) {
        this.log.warn('detach failed', { interface: a.name, err });
      }
    }
    this.attached.clear();
  }
}
