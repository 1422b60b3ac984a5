// docs/cost.md's recording rules and alert examples are valid Prometheus rules
// (promtool), and every metric they use is one the agent exports.
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { METRIC_LIST } from '../../agent/src/metrics/definitions.js';

const text = readFileSync(new URL('../../docs/cost.md', import.meta.url), 'utf8');
const blocks = [...text.matchAll(/```yaml\n(groups:[\s\S]*?)```/g)].map((m) => m[1]!);

test('the rules files in docs/cost.md pass promtool check rules', (t) => {
  t.is(blocks.length, 2, 'the recording rules and the alert examples');
  const dir = mkdtempSync(join(tmpdir(), 'ka-cost-rules-'));
  try {
    blocks.forEach((b, i) => {
      const f = join(dir, `rules-${i}.yaml`);
      writeFileSync(f, b);
      const out = execFileSync('promtool', ['check', 'rules', f], { encoding: 'utf8' });
      t.regex(out, /SUCCESS/, out);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every kubeadapt metric docs/cost.md names exists', (t) => {
  const names = new Set(METRIC_LIST.map((m) => m.name));
  const used = new Set([...text.matchAll(/\bkubeadapt_[a-z_]+\b/g)].map((m) => m[0]));
  t.true(used.size >= 2);
  for (const n of used) t.true(names.has(n), `${n} is not a metric of the agent`);
});
