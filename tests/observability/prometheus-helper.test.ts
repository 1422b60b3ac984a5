// The Prometheus test helper itself, against a fixed exposition: it must start
// the real binary, see the first scrape, return exact samples, surface PromQL
// errors and leave no process or directory behind. Serial: the last checks
// count this process's live prometheus children.

import test from 'ava';
import { spawn } from 'node:child_process';
import { access, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { livePrometheusPids, PrometheusQueryError, startPrometheus } from '../helpers/prometheus.js';
import { serveExposition } from './exposition.js';

const HERE = dirname(fileURLToPath(import.meta.url));

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

test.serial('prometheus dies with a test process that is killed outright', async (t) => {
  const child = spawn(process.execPath, ['--import=tsx', join(HERE, 'fixtures/start-and-hang.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => child.kill('SIGKILL'));
  let out = '';
  const started = await new Promise<{ pid: number; dir: string }>((resolve, reject) => {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('\n')) resolve(JSON.parse(out) as { pid: number; dir: string });
    });
    child.once('exit', (code) => reject(new Error(`fixture exited with ${code} before printing: ${out}`)));
  });
  t.teardown(() => rm(started.dir, { recursive: true, force: true }));
  t.true(isRunning(started.pid));
  child.kill('SIGKILL');
  const deadline = Date.now() + 5000;
  while (isRunning(started.pid) && Date.now() < deadline) await sleep(50);
  t.false(isRunning(started.pid), `prometheus ${started.pid} outlived its killed parent`);
});
