// Prints, as JSON, every TC filter and tcx program on every link of the
// network namespace it runs in, read from the kernel through the agent's addon
// (bpftool of Debian 12 predates tcx).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const addon = createRequire(import.meta.url)(join(root, 'agent', 'native', 'build', 'Release', 'ebpf_agent.node'));
const out = [];
for (const link of addon.listLinks()) {
  for (const direction of ['ingress', 'egress']) {
    for (const f of addon.listTcFilters(link.ifindex, direction)) out.push({ link: link.name, direction, kind: 'tc', name: f.programId ? addon.programName(f.programId) : f.kind, id: f.programId, handle: f.handle, priority: f.priority });
    for (const id of addon.listTcxPrograms(link.ifindex, direction)) out.push({ link: link.name, direction, kind: 'tcx', name: addon.programName(id), id });
  }
}
process.stdout.write(JSON.stringify(out));
