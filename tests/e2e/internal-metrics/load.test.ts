// kubeadapt_bpf_load_status, _load_attempts_total and _load_duration_seconds
// are true: 1/1/a duration inside the start-up window on a good start; 0 for
// both programs, a not-ready agent and attempts that grow with retries while
// the pin path's parent is missing; 1 once a retry finds it.
import test from 'ava';
import { mkdirSync, rmSync, existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { SimulatedNode } from '../helpers/topology.js';
import { AgentProcess, AGENT_MAIN } from '../helpers/agent-process.js';
import { run } from '../helpers/exec.js';
import { mustValue } from './samples.js';

const STATUS = 'kubeadapt_bpf_load_status';
const ATTEMPTS = 'kubeadapt_bpf_load_attempts_total';
const DURATION = 'kubeadapt_bpf_load_duration_seconds';
const PROGRAMS = ['tc_pod_egress', 'tc_host_egress'];

/** loadSeconds of every "BPF programs loaded" log line. */
function loadedLines(output: string): number[] {
  return output.split('\n').filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg: string; loadSeconds?: number })
    .filter((l) => l.msg === 'BPF programs loaded').map((l) => l.loadSeconds!);
}

test.serial('a good start: both programs loaded, one attempt, a duration within the start-up time', async (t) => {
  const node = await new SimulatedNode(51).create();
  t.teardown(() => node.destroy());
  const started = Date.now();
  const agent = await AgentProcess.start(node);
  t.teardown(() => agent.stop());
  await agent.waitReady();
  const elapsed = (Date.now() - started) / 1000;
  const s = await agent.samples();
  for (const program of PROGRAMS) t.is(mustValue(s, STATUS, { program }), 1, program);
  t.is(s.filter((x) => x.name === STATUS).length, PROGRAMS.length, 'one status series a program');
  t.is(mustValue(s, ATTEMPTS), 1);
  const d = mustValue(s, DURATION);
  t.true(d > 0 && d < elapsed, `load took ${d} s of the ${elapsed} s until ready`);
  t.deepEqual(loadedLines(agent.output()), [d], 'the gauge holds the duration the agent logged for its one load');
});

test.serial('a failed load: status 0 for every program, attempts grow with retries, recovery sets 1', async (t) => {
  const node = await new SimulatedNode(51).create();
  t.teardown(() => node.destroy());
  const parent = `/sys/fs/bpf/${node.id}-late`;
  const pinPath = `${parent}/pins`;
  t.teardown(async () => {
    await run(process.execPath, [AGENT_MAIN, 'cleanup'], { env: { ...process.env, EBPF_BPF_PIN_PATH: pinPath }, allowFail: true });
    rmSync(parent, { recursive: true, force: true });
  });
  const agent = await AgentProcess.start(node, { EBPF_BPF_PIN_PATH: pinPath });
  t.teardown(() => agent.stop());

  let s = await agent.samples();
  for (let i = 0; i < 50 && s.every((x) => x.name !== STATUS); i++) s = (await sleep(100), await agent.samples());
  for (const program of PROGRAMS) t.is(mustValue(s, STATUS, { program }), 0, `${program} not loaded`);
  t.is(mustValue(s, ATTEMPTS), 1);
  t.is((await agent.get('/health/ready')).status, 503, 'not ready without programs');
  t.is((await agent.get('/health/live')).status, 200, 'alive: a restart would not help');

  // The DaemonSet's bpffs mount shows up late: the next retry (after 5 s) loads.
  t.false(existsSync(parent));
  mkdirSync(parent);
  await agent.waitReady(15_000);
  s = await agent.samples();
  for (const program of PROGRAMS) t.is(mustValue(s, STATUS, { program }), 1, `${program} loaded on retry`);
  t.is(mustValue(s, ATTEMPTS), 2);
  t.deepEqual(loadedLines(agent.output()), [mustValue(s, DURATION)], 'the duration of the load that succeeded');
});
