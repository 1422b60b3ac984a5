// The Prometheus test helper itself, against a fixed exposition: it must start
// the real binary, see the first scrape, return exact samples, surface PromQL
// errors and leave no process or directory behind. Serial: the last checks
// count this process's live prometheus children.

import test from 'ava';
import { access } from 'node:fs/promises';
import { livePrometheusPids, PrometheusQueryError, startPrometheus } from '../helpers/prometheus.js';
import { serveExposition } from './exposition.js';

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test.serial('scrapes a target and answers instant queries with exact samples', async (t) => {
  const target = await serveExposition(() => '# TYPE helper_fixed_value gauge\nhelper_fixed_value{kind="fixed"} 42\n');
  t.teardown(() => target.stop());
  const prom = await startPrometheus({ targets: [target.address], job: 'helper-test', labels: { node: 'node-a' } });
  t.teardown(() => prom.stop());

  t.true(target.scrapes() >= 1);
  t.deepEqual(await prom.instantQuery('helper_fixed_value'), [{
    metric: { __name__: 'helper_fixed_value', instance: target.address, job: 'helper-test', kind: 'fixed', node: 'node-a' },
    value: 42,
  }]);
  t.deepEqual(await prom.instantQuery('helper_fixed_value * 2 + 1'), [{
    metric: { instance: target.address, job: 'helper-test', kind: 'fixed', node: 'node-a' },
    value: 85,
  }]);
  t.deepEqual(await prom.instantQuery('helper_missing_metric'), []);

  const err = await t.throwsAsync(prom.instantQuery('sum by (kind helper_fixed_value'), { instanceOf: PrometheusQueryError });
  t.is(err?.errorType, 'bad_data');

  await prom.waitForScrapes(3);
  t.true(target.scrapes() >= 3);

  const { pid, dir } = prom;
  await prom.stop();
  t.false(isRunning(pid), `prometheus ${pid} still running after stop()`);
  await t.throwsAsync(access(dir), { code: 'ENOENT' });
});

test.serial('start fails with the scrape error when a target is down, and cleans up', async (t) => {
  // Bind and close a server to get a port nobody listens on.
  const gone = await serveExposition(() => '');
  await gone.stop();
  const err = await t.throwsAsync(startPrometheus({ targets: [gone.address], job: 'helper-down', startTimeoutMs: 15_000 }));
  t.regex(err?.message ?? '', new RegExp(`first scrape failed: http://${gone.address}/metrics: .*connection refused`));
  t.deepEqual(livePrometheusPids(), []);
});

test.serial('allowDown starts anyway and up is 0', async (t) => {
  const gone = await serveExposition(() => '');
  await gone.stop();
  const prom = await startPrometheus({ targets: [gone.address], job: 'helper-down', allowDown: true });
  t.teardown(() => prom.stop());
  t.deepEqual(await prom.instantQuery('up'), [{ metric: { __name__: 'up', instance: gone.address, job: 'helper-down' }, value: 0 }]);
});
