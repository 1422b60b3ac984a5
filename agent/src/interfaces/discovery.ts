// Decides which interfaces carry pod egress and keeps the programs attached to
// exactly those, following rtnetlink as links appear and vanish.
import type { Direction, LinkInfo, NativeAddon } from '../native.js';
import type { Logger } from '../log.js';
import type { Attacher, Attachment } from './attacher.js';

export interface HookPlan {
  direction: Direction;
  program: string;
}

/**
 * The host end of a pod's veth: a veth whose peer lives in another network
 * namespace, whatever the CNI named it (cali*, lxc*, veth*, ...). Packets the
 * pod sends arrive on TC ingress there.
 */
export function isPodVeth(link: LinkInfo): boolean {
  return link.kind === 'veth' && link.peerNetnsId >= 0;
}

export function planFor(link: LinkInfo): HookPlan | undefined {
  if (isPodVeth(link)) return { direction: 'ingress', program: 'tc_pod_egress' };
  return undefined;
}

export interface DiscoveryEvents {
  onAttachError(link: LinkInfo, err: unknown): void;
  onChange(attached: number): void;
}

export class InterfaceDiscovery {
  private readonly attached = new Map<number, Attachment>();
  private monitor: { close(): void } | undefined;
  private pending: NodeJS.Timeout | undefined;

  constructor(
    private readonly addon: NativeAddon,
    private readonly attacher: Attacher,
    private readonly log: Logger,
    private readonly events: DiscoveryEvents,
  ) {}

  start(): void {
    this.monitor = new this.addon.LinkMonitor(() => this.scheduleSync());
    this.sync();
  }

  /** Bursts of link events (a pod start makes several) become one relist. */
  private scheduleSync(): void {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.sync();
    }, 20);
  }

  sync(): void {
    const links = this.addon.listLinks();
    const present = new Map(links.map((l) => [l.ifindex, l]));
    for (const [ifindex, a] of this.attached) {
      const now = present.get(ifindex);
      if (!now || now.name !== a.name || !planFor(now)) {
        this.attached.delete(ifindex);
        try {
          this.attacher.detach(a, !now);
        } catch (err) {
          this.log.debug('detach after link change failed', { interface: a.name, err });
        }
        this.log.info('interface released', { interface: a.name, ifindex });
      }
    }
    for (const link of links) {
      const plan = planFor(link);
      if (!plan || this.attached.has(link.ifindex)) continue;
      try {
        const a = this.attacher.attach(link.ifindex, link.name, plan.direction, plan.program);
        this.attached.set(link.ifindex, a);
        this.log.info('attached', { interface: link.name, ifindex: link.ifindex, program: plan.program, direction: plan.direction, mode: a.mode });
      } catch (err) {
        // A veth deleted between the dump and the attach is not an error.
        if ((err as { code?: string }).code === 'ENODEV' || !this.addon.listLinks().some((l) => l.ifindex === link.ifindex)) continue;
        this.events.onAttachError(link, err);
      }
    }
    this.events.onChange(this.attached.size);
  }

  attachments(): Attachment[] {
    return [...this.attached.values()];
  }

  /** Stops following links and takes every program off again. */
  stop(): void {
    if (this.pending) clearTimeout(this.pending);
    this.pending = undefined;
    this.monitor?.close();
    this.monitor = undefined;
    const present = new Set(this.addon.listLinks().map((l) => l.ifindex));
    for (const a of this.attached.values()) {
      try {
        this.attacher.detach(a, !present.has(a.ifindex));
      } catch (err) {
        this.log.warn('detach failed', { interface: a.name, err });
      }
    }
    this.attached.clear();
  }
}
