// helm lint --strict with the default values and with every scenario in ci/,
// for the oldest supported and a current Kubernetes.
import test from 'ava';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CHART_DIR, helm, KUBE_VERSIONS } from './lib/helm.js';

const ciFiles = readdirSync(join(CHART_DIR, 'ci')).filter((f) => f.endsWith('-values.yaml')).sort();

test('the chart has ci scenarios to lint', (t) => {
  t.deepEqual(ciFiles, [
    'cost-values.yaml', 'disabled-values.yaml', 'extras-values.yaml', 'metrics-auth-values.yaml', 'minimal-values.yaml',
    'monitoring-values.yaml', 'network-policy-values.yaml', 'privileged-values.yaml',
  ]);
});

for (const kube of KUBE_VERSIONS) {
  for (const values of ['(defaults)', ...ciFiles]) {
    test(`helm lint --strict, Kubernetes ${kube}, ${values}`, async (t) => {
      const args = ['lint', '--strict', CHART_DIR, '--kube-version', kube];
      if (values !== '(defaults)') args.push('-f', join(CHART_DIR, 'ci', values));
      const r = await helm(args);
      t.is(r.code, 0, r.stdout + r.stderr);
      t.regex(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
      t.notRegex(r.stdout, /\[(WARNING|ERROR)\]/);
    });
  }
}
