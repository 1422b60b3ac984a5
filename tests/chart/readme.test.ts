// README.md is helm-docs output of the generated README.md.gotmpl: the published
// README's sections, a row per metric the agent defines, a row per value, and the
// capability table from the one capability list.
import test from 'ava';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { METRIC_LIST } from '../../agent/src/metrics/definitions.js';
import { Group, type Node } from '../../cdk8s/src/values/dsl.js';
import { VALUES } from '../../cdk8s/src/values/values.js';
import { AGENT_CAPABILITIES } from '../../cdk8s/src/security.js';
import { CHART_DIR, helm, REPO, templateArgs } from './lib/helm.js';

const readme = readFileSync(join(CHART_DIR, 'README.md'), 'utf8');
const seed = readFileSync(join(REPO, 'cdk8s/src/readme/seed.README.md.gotmpl'), 'utf8');
const headings = (text: string): string[] => text.split('\n').filter((l) => /^#{2,3} /.test(l));

function leaves(node: Node): string[] {
  return node instanceof Group ? Object.values(node.$children).flatMap(leaves) : [node.$path];
}

test('README.md is rendered by helm-docs: badges and the values table', (t) => {
  t.true(readme.startsWith('# ebpf-agent\n\n![Version: 0.1.0]'));
  t.true(readme.includes('![AppVersion: 0.1.0]'));
  t.true(readme.includes('| Key | Type | Default | Description |'));
  t.false(readme.includes('{{'), 'a template directive was left unrendered');
});

test('README.md keeps every section of the published README template, in order', (t) => {
  const ours = headings(readme);
  const theirs = headings(seed);
  t.true(theirs.length >= 8);
  t.deepEqual(ours.filter((h) => theirs.includes(h)), theirs);
});

test('README.md has a row for every metric the agent defines, with its type and labels', (t) => {
  for (const m of METRIC_LIST) {
    const type = m.type.charAt(0).toUpperCase() + m.type.slice(1);
    const labels = m.labels.map((l) => `\`${l}\``).join(', ') || '-';
    t.true(readme.includes(`| \`${m.name}\` | ${type} | ${labels} |`), `no row for ${m.name}`);
  }
  const rows = readme.split('\n').filter((l) => /^\| `kubeadapt_/.test(l));
  t.is(rows.length, METRIC_LIST.length, 'a metric row that the agent does not define');
});

test('README.md documents every value (helm-docs rows come from the # -- lines in values.yaml)', (t) => {
  const documented = readme.split('\n').filter((l) => /^\| [a-zA-Z]/.test(l) && !l.startsWith('| Key') && !l.startsWith('| Metric') && !l.startsWith('| Capability'))
    .map((l) => l.split('|')[1]!.trim());
  const expected = leaves(VALUES);
  t.true(expected.includes('config.metricsPort') && expected.includes('securityContext.capabilities'));
  t.deepEqual(documented.filter((k) => !k.startsWith('`')).sort(), [...expected].sort());
});

test('README.md says which capability each operation needs, from the same list the chart grants', (t) => {
  for (const c of AGENT_CAPABILITIES) t.true(readme.includes(`| \`CAP_${c.name}\` | ${c.operations} |`), `no row for CAP_${c.name}`);
  t.true(readme.includes(`add: [${AGENT_CAPABILITIES.map((c) => c.name).join(', ')}]`));
  t.true(readme.includes('kubectl port-forward -n kubeadapt daemonset/kubeadapt-ebpf-agent 9090:9090'));
  t.true(readme.includes('kubectl logs -n kubeadapt -l app.kubernetes.io/name=ebpf-agent --tail=50'));
});

/**
 * NOTES.txt as `helm install` prints it. helm template skips NOTES.txt and a
 * dry-run install needs a cluster, so a copy of the chart renders it through
 * `tpl` inside a ConfigMap.
 */
async function renderNotes(set: string[]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'chart-notes-'));
  try {
    const chart = join(dir, 'ebpf-agent');
    cpSync(CHART_DIR, chart, { recursive: true });
    cpSync(join(chart, 'templates/NOTES.txt'), join(chart, 'NOTES.txt'));
    writeFileSync(join(chart, 'templates/notes-check.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  notes: {{ tpl (.Files.Get "NOTES.txt") . | toJson }}\n');
    const r = await helm([...templateArgs({ chart, set }), '--show-only', 'templates/notes-check.yaml']);
    if (r.code !== 0) throw new Error(r.stderr);
    return (parse(r.stdout) as { data: { notes: string } }).data.notes;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('NOTES.txt tells how to reach /metrics with the configured port and names', async (t) => {
  t.false(/9090/.test(readFileSync(join(CHART_DIR, 'templates/NOTES.txt'), 'utf8')), 'NOTES.txt hard-codes the port');
  const defaults = await renderNotes([]);
  t.true(defaults.includes('kubectl -n kubeadapt port-forward daemonset/kubeadapt-ebpf-agent 9090:9090\n'));
  t.true(defaults.includes('curl -s http://localhost:9090/metrics | grep kubeadapt_\n'));
  t.true(defaults.includes('http://kubeadapt-ebpf-agent.kubeadapt.svc:9090/metrics\n'));
  const custom = await renderNotes(['config.metricsPort=9100', 'service.enabled=false', 'serviceMonitor.enabled=true']);
  t.true(custom.includes('port-forward daemonset/kubeadapt-ebpf-agent 9100:9100\n'));
  t.false(custom.includes('.svc:'), 'no Service, no in-cluster URL');
  t.true(custom.includes('serviceMonitor.enabled is set but service.enabled is not'));
  t.is(await renderNotes(['enabled=false']), 'enabled is false: nothing was deployed. Set enabled=true to run the agent.\n');
});
