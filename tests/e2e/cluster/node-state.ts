// What the agent leaves in the node's kernel, read without the agent: its BPF
// programs and links (bpftool), TC filters and tcx attachments on every link of
// the node's network namespace (the addon, as tests/e2e/helpers/hooks.mjs reads
// them), clsact qdiscs, and the pins under the chart's pinPath.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../kind/command.js';
import { REPO } from './node.js';

export const PIN_PATH = '/sys/fs/bpf/kubeadapt';
const PROGRAMS = new Set(['tc_pod_egress', 'tc_host_egress']);

export interface BpfState {
  readonly programs: string[];
  readonly links: string[];
  readonly hooks: string[];
  readonly clsact: string[];
  readonly pins: string[];
}

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? [join(dir, e.name) + '/', ...walk(join(dir, e.name))] : [join(dir, e.name)]);
}

interface Hook { link: string; direction: string; kind: string; name: string | null; id?: number }
const hooksHere = async () => JSON.parse((await run(process.execPath, [join(REPO, 'tests/e2e/helpers/hooks.mjs')])).stdout) as Hook[];

/**
 * IDs of the agent's programs attached in the node's network namespace. Other
 * tests on this machine load programs of the same names inside their own
 * namespaces, so "ours" is what hangs on this namespace's links.
 */
export async function attachedProgramIds(): Promise<Set<number>> {
  return new Set((await hooksHere()).filter((h) => h.name && PROGRAMS.has(h.name) && h.id).map((h) => h.id!));
}

/** `ids`: the programs known to be ours (attachedProgramIds() while the agent ran). */
export async function bpfState(ids: ReadonlySet<number>): Promise<BpfState> {
  const progs = JSON.parse((await run('bpftool', ['prog', 'show', '-j'])).stdout) as { id: number; name?: string }[];
  const ours = progs.filter((p) => ids.has(p.id));
  const links = JSON.parse((await run('bpftool', ['link', 'show', '-j'])).stdout) as { id: number; type: string; prog_id: number }[];
  const hooks = await hooksHere();
  const qdiscs = JSON.parse((await run('tc', ['-j', 'qdisc', 'show'])).stdout) as { kind: string; dev: string }[];
  return {
    programs: ours.map((p) => `${p.name}#${p.id}`),
    links: links.filter((l) => ids.has(l.prog_id)).map((l) => `${l.type} link #${l.id} -> prog #${l.prog_id}`),
    hooks: hooks.filter((h) => h.name && PROGRAMS.has(h.name)).map((h) => `${h.kind} ${h.name} on ${h.link} ${h.direction}`),
    clsact: qdiscs.filter((q) => q.kind === 'clsact').map((q) => q.dev),
    pins: walk(PIN_PATH),
  };
}

/** Host-side pod veths (the bridge's ports) that carry tc_pod_egress. */
export async function podVethsAttached(): Promise<number> {
  const hooks = await hooksHere();
  return new Set(hooks.filter((h) => h.name === 'tc_pod_egress' && h.link.startsWith('veth')).map((h) => h.link)).size;
}
