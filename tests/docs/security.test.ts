// docs/security.md lists every host path the chart mounts (and claims no
// others): read from the rendered plain manifests, so a new hostPath volume
// fails here until the document says why the agent needs it.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const doc = readFileSync(join(REPO, 'docs/security.md'), 'utf8');
const section = doc.slice(doc.indexOf('## Host namespaces and mounts'), doc.indexOf('\n## ', doc.indexOf('## Host namespaces and mounts') + 1));

interface Volume { name: string; hostPath?: { path: string; type?: string } }
interface Mount { name: string; mountPath: string; readOnly?: boolean }

test('every hostPath volume of the DaemonSet is in docs/security.md, with its mount and read-only flag', (t) => {
  const docs = parseAllDocuments(readFileSync(join(REPO, 'dist/manifests/ebpf-agent.yaml'), 'utf8')).map((d) => d.toJS() as { kind?: string; spec?: { template: { spec: { volumes: Volume[]; containers: { volumeMounts?: Mount[] }[] } } } });
  const ds = docs.find((d) => d?.kind === 'DaemonSet')!;
  const spec = ds.spec!.template.spec;
  const hostPaths = spec.volumes.filter((v) => v.hostPath);
  t.deepEqual(hostPaths.map((v) => v.hostPath!.path).sort(), ['/sys/fs/bpf', '/sys/fs/cgroup']);
  t.regex(section, /Two host paths:/);
  for (const v of hostPaths) {
    t.true(section.includes(`\`${v.hostPath!.path}\``), `${v.hostPath!.path} is documented`);
    for (const m of spec.containers.flatMap((c) => c.volumeMounts ?? []).filter((x) => x.name === v.name)) {
      if (m.mountPath !== v.hostPath!.path) t.true(section.includes(`at \`${m.mountPath}\``), `${m.mountPath} is documented`);
      if (m.readOnly) t.regex(section, new RegExp(`\`${v.hostPath!.path}\`, \\*\\*read-only\\*\\*`));
    }
  }
  t.notRegex(section, /no `\/sys`, `\/proc`,\s+cgroup/, 'the old claim of no cgroup mount is gone');
});
