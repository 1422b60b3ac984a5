// The alert rules: promtool accepts the generated rules file, and the promtool
// unit tests in rules/ (every alert fires on its series, nothing fires on a
// healthy node) pass against it and fail against a broken rule.

import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { buildAlertRules, RUNBOOK_ANCHORS } from '../../cdk8s/src/observability/rules.js';
import { REPO_ROOT } from '../../scripts/gen-docs.js';

const run = promisify(execFile);
const PROMTOOL = '/usr/bin/promtool';
const RULES_FILE = join(REPO_ROOT, 'docs/alerts/ebpf-agent.rules.yaml');
const UNIT_TESTS = ['healthy.yaml', 'firing.yaml'].map((f) => join(REPO_ROOT, 'tests/observability/rules', f));

interface Rule { alert: string; expr: string; for: string; labels: Record<string, string>; annotations: Record<string, string> }
const rules = buildAlertRules().groups.flatMap((g) => g.rules) as unknown as Rule[];

async function promtool(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(PROMTOOL, args, { cwd: REPO_ROOT });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** Unit test files re-pointed at another rules file, in a temp dir removed by teardown. */
async function unitTestsAgainst(t: { teardown(fn: () => Promise<void>): void }, groups: unknown): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'rules-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'rules.yaml'), stringify(groups, { lineWidth: 0 }));
  return Promise.all(UNIT_TESTS.map(async (file) => {
    const doc = parse(await readFile(file, 'utf8')) as { rule_files: string[] };
    doc.rule_files = ['rules.yaml'];
    const out = join(dir, file.split('/').pop()!);
    await writeFile(out, stringify(doc));
    return out;
  }));
}

test('promtool check rules accepts the generated rules file', async (t) => {
  const { code, out } = await promtool('check', 'rules', RULES_FILE);
  t.is(code, 0, out);
  t.regex(out, new RegExp(`SUCCESS: ${rules.length} rules found`));
});

test('promtool test rules: every alert fires on its series and stays quiet without', async (t) => {
  const { code, out } = await promtool('test', 'rules', ...UNIT_TESTS);
  t.is(code, 0, out);
  t.is(out.match(/SUCCESS/g)?.length, UNIT_TESTS.length, out);
});

test('the unit tests cover every alert both ways', async (t) => {
  type Case = { alertname: string; exp_alerts: unknown[] };
  const cases = async (file: string): Promise<Case[]> =>
    (parse(await readFile(file, 'utf8')) as { tests: Array<{ alert_rule_test: Case[] }> }).tests.flatMap((x) => x.alert_rule_test);
  const [healthy, firing] = await Promise.all(UNIT_TESTS.map(cases));
  const names = rules.map((r) => r.alert).sort();
  t.deepEqual([...new Set(healthy!.filter((c) => c.exp_alerts.length === 0).map((c) => c.alertname))].sort(), names, 'quiet on a healthy node');
  t.deepEqual([...new Set(firing!.filter((c) => c.exp_alerts.length > 0).map((c) => c.alertname))].sort(), names, 'fires');
  t.deepEqual([...new Set(firing!.filter((c) => c.exp_alerts.length === 0).map((c) => c.alertname))].sort(), names, 'quiet before it fires');
});

test('the unit tests fail against a broken rule', async (t) => {
  const broken = buildAlertRules({ mapUtilizationPercent: 99 });
  const { code, out } = await promtool('test', 'rules', ...(await unitTestsAgainst(t, broken)));
  t.is(code, 1);
  t.is(out.match(/alertname: (\w+)/g)?.join(','), 'alertname: EbpfAgentMapUtilizationHigh', out);
});

test('every alert has a severity, a summary, a description and a runbook link', (t) => {
  for (const r of rules) {
    t.deepEqual(Object.keys(r.labels), ['severity'], r.alert);
    t.true(['critical', 'warning'].includes(r.labels.severity!), r.alert);
    t.deepEqual(Object.keys(r.annotations).sort(), ['description', 'runbook_url', 'summary'], r.alert);
    t.is(r.annotations.runbook_url, `docs/runbook.md#${RUNBOOK_ANCHORS[r.alert as keyof typeof RUNBOOK_ANCHORS]}`);
  }
  t.deepEqual(rules.map((r) => r.alert).sort(), Object.keys(RUNBOOK_ANCHORS).sort());
});

test('options: interval threshold, job regex and runbook URL reach the rules', async (t) => {
  const custom = buildAlertRules({ collectionIntervalSeconds: 15, jobRegex: 'traffic-agent', runbookUrl: 'https://example.org/runbook' });
  const byName = new Map((custom.groups[0]!.rules as unknown as Rule[]).map((r) => [r.alert, r]));
  t.is(byName.get('EbpfAgentTargetDown')!.expr, 'up{job=~"traffic-agent"} == 0');
  t.is(byName.get('EbpfAgentTargetDown')!.annotations.runbook_url, 'https://example.org/runbook#agent-target-down');
  t.is(byName.get('EbpfAgentCollectionSlow')!.expr,
    'rate(kubeadapt_ebpf_collection_duration_seconds_sum[10m]) / rate(kubeadapt_ebpf_collection_duration_seconds_count[10m]) > 15');

  // With a 15 s interval node-b's 20 s collections are too slow as well; the
  // default job regex no longer matches kubeadapt-ebpf-agent, so target-down stays quiet.
  const sameRunbook = buildAlertRules({ collectionIntervalSeconds: 15, jobRegex: 'traffic-agent' });
  const { out } = await promtool('test', 'rules', ...(await unitTestsAgainst(t, sameRunbook)));
  t.is(out.match(/alertname: (\w+)/g)?.join(','), 'alertname: EbpfAgentCollectionSlow,alertname: EbpfAgentTargetDown', out);
  t.regex(out, /instance="node-b:9090"/);
});

test('bad options are refused with the option, the value and what is accepted', (t) => {
  t.throws(() => buildAlertRules({ collectionIntervalSeconds: 0 }), {
    message: 'buildAlertRules: collectionIntervalSeconds is 0; accepted: a number greater than 0',
  });
  t.throws(() => buildAlertRules({ mapUtilizationPercent: 100 }), {
    message: 'buildAlertRules: mapUtilizationPercent is 100; accepted: a number greater than 0 and below 100',
  });
  t.throws(() => buildAlertRules({ jobRegex: '' }), {
    message: 'buildAlertRules: jobRegex is empty; accepted: a regex matching the agent\'s scrape job',
  });
});

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchorsOf(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const line of markdown.split('\n')) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) out.add(heading[1]!.toLowerCase().replace(/[^\p{L}\p{N}_\- ]/gu, '').replaceAll(' ', '-'));
    for (const m of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) out.add(m[1]!);
  }
  return out;
}

const RUNBOOK = join(REPO_ROOT, 'docs/runbook.md');
// Read synchronously: ava wants every test declared before the first await.
const runbook = existsSync(RUNBOOK) ? readFileSync(RUNBOOK, 'utf8') : undefined;
if (runbook === undefined) {
  test.skip('SKIPPED: docs/runbook.md does not exist yet, so the alerts\' runbook anchors cannot be checked', () => {});
} else {
  test('every alert\'s runbook_url anchor is a heading in docs/runbook.md', (t) => {
    const anchors = anchorsOf(runbook);
    t.deepEqual([...new Set(Object.values(RUNBOOK_ANCHORS))].filter((a) => !anchors.has(a)), []);
  });
}
