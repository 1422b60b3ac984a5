// The stand-in CNI program (tests/e2e/helpers/stand-in-cni.bpf.c) as a test
// sees it: loaded and pinned with bpftool, attached the way a CNI would (tc
// CLI for legacy TC, a pinned tcx link otherwise), and its identity on the
// hook read back from the kernel.
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, runJson } from '../helpers/exec.js';
import type { Pod, SimulatedNode } from '../helpers/topology.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const HELPERS = join(HERE, '..', 'helpers');
const OBJECT = join(HELPERS, 'build', 'stand-in-cni.bpf.o');
/** The handle Cilium gives its legacy filters; ours is 0x4b41. */
export const STAND_IN_HANDLE = 1;
export const STAND_IN_PRIORITY = 1;
/** UDP destination ports the stand-in acts on (see the C file). */
export const PORT = { drop: 9, redirect: 7, rewrite: 5 } as const;

/** Where a program sits on a hook, as the kernel lists it. */
export interface HookEntry {
  name: string | null;
  id?: number;
  kind: 'tc' | 'tcx';
  handle?: number;
  priority?: number;
}

/** Runs in the node's network namespace without `ip netns exec`, which hides /sys/fs/bpf. */
export function inNode(node: SimulatedNode, cmd: string, args: readonly string[], opts: Parameters<typeof run>[2] = {}) {
  return run('nsenter', [`--net=/run/netns/${node.netns}`, cmd, ...args], opts);
}

export class StandInCni {
  readonly pinDir: string;
  private links = 0;

  constructor(private readonly node: SimulatedNode) {
    this.pinDir = `/sys/fs/bpf/${node.id}-stand-in`;
  }

  async load(): Promise<void> {
    await run('make', ['-s', '-C', HELPERS]);
    mkdirSync(this.pinDir, { recursive: true });
    await run('bpftool', ['prog', 'load', OBJECT, join(this.pinDir, 'prog'), 'type', 'classifier', 'pinmaps', join(this.pinDir, 'maps')]);
  }

  /** UDP to PORT.redirect becomes UDP to `to` and is redirected to its host veth. */
  async redirectTo(to: Pod): Promise<void> {
    type Link = { ifindex: number; address: string }[];
    const hostLink = (await runJson<Link>('ip', ['-n', this.node.netns, '-j', 'link', 'show', 'dev', to.hostVeth]))[0]!;
    const podLink = (await runJson<Link>('ip', ['-n', to.netns, '-j', 'link', 'show', 'dev', 'eth0']))[0]!;
    const value = Buffer.alloc(16);
    value.writeUInt32LE(hostLink.ifindex as number, 0);
    Buffer.from(to.ipv4.split('.').map(Number)).copy(value, 4);
    Buffer.from((podLink.address as string).split(':').map((h) => parseInt(h, 16))).copy(value, 8);
    const bytes = (b: Buffer) => [...b].map((x) => String(x));
    await run('bpftool', ['map', 'update', 'pinned', join(this.pinDir, 'maps', 'stand_in_config'), 'key', ...bytes(Buffer.alloc(4)), 'value', ...bytes(value)]);
  }

  /** Legacy TC, as Cilium does it: clsact (if missing) and a direct-action filter at priority 1. */
  async attachTc(dev: string): Promise<void> {
    await inNode(this.node, 'tc', ['qdisc', 'add', 'dev', dev, 'clsact'], { allowFail: true });
    await inNode(this.node, 'tc', ['filter', 'add', 'dev', dev, 'ingress', 'prio', String(STAND_IN_PRIORITY), 'handle', String(STAND_IN_HANDLE),
      'bpf', 'da', 'object-pinned', join(this.pinDir, 'prog')]);
  }

  async detachTc(dev: string): Promise<void> {
    await inNode(this.node, 'tc', ['filter', 'del', 'dev', dev, 'ingress', 'prio', String(STAND_IN_PRIORITY), 'handle', String(STAND_IN_HANDLE), 'bpf']);
  }

  /** tcx link at the head (BPF_F_BEFORE) or appended at the tail; returns the link's pin. */
  async attachTcx(dev: string, position: 'head' | 'tail'): Promise<string> {
    const linkPath = join(this.pinDir, `link${++this.links}`);
    await inNode(this.node, process.execPath, [join(HERE, 'attach-tcx.mjs'), join(this.pinDir, 'prog'), linkPath, dev, 'ingress', position]);
    return linkPath;
  }

  /** Unpinning the only reference to a tcx link detaches it. */
  detachTcx(linkPath: string): void {
    rmSync(linkPath);
  }

  async programId(): Promise<number> {
    return (await runJson<{ id: number }>('bpftool', ['-j', 'prog', 'show', 'pinned', join(this.pinDir, 'prog')])).id;
  }

  destroy(): void {
    rmSync(this.pinDir, { recursive: true, force: true });
  }
}

/** The programs on one pod veth's TC ingress, in the order the kernel runs them (tcx before legacy TC). */
export async function ingressChain(node: SimulatedNode, dev: string): Promise<HookEntry[]> {
  const hooks = (await node.hooks()) as (HookEntry & { link: string; direction: string })[];
  const mine = hooks.filter((h) => h.link === dev && h.direction === 'ingress');
  return [...mine.filter((h) => h.kind === 'tcx'), ...mine.filter((h) => h.kind === 'tc')]
    .map(({ name, id, kind, handle, priority }) => ({ name, id, kind, ...(kind === 'tc' ? { handle, priority } : {}) }));
}
