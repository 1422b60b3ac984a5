// Attaches a pinned program with a pinned tcx link, from inside the network
// namespace it runs in (nsenter --net, which keeps /sys/fs/bpf visible).
// argv: programPath linkPath interface direction head|tail; prints the program id.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const addon = createRequire(import.meta.url)(join(root, 'agent', 'native', 'build', 'Release', 'kubeadapt_testing.node'));
const [programPath, linkPath, name, direction, position] = process.argv.slice(2);
const link = addon.listLinks().find((l) => l.name === name);
if (!link) throw new Error(`no interface ${name} in this namespace`);
process.stdout.write(String(addon.attachTcxPinned({ programPath, linkPath, ifindex: link.ifindex, direction, head: position === 'head' })));
