// EBPF_ENABLE_PROFILING starts the profiling server inside the running agent
// on EBPF_PROFILING_PORT; off by default.
import test from 'ava';
import { SimulatedNode } from '../helpers/topology.js';
import { AgentProcess } from '../helpers/agent-process.js';
import { inNetns } from '../helpers/exec.js';

test.serial('the agent serves profiles only when profiling is enabled', async (t) => {
  const node = await new SimulatedNode(18).create();
  t.teardown(() => node.destroy());
  const curl = (port: number) => inNetns(node.netns, 'curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${port}/debug/heap-snapshot`], { allowFail: true });

  const off = await AgentProcess.start(node);
  await off.waitReady();
  t.not((await curl(6060)).stdout, '200', 'no profiling server by default');
  await off.stop();

  const on = await AgentProcess.start(node, { EBPF_ENABLE_PROFILING: 'true', EBPF_PROFILING_PORT: '6061' });
  t.teardown(() => on.stop());
  await on.waitReady();
  t.is((await curl(6061)).stdout, '200');
  t.regex(on.output(), /"msg":"serving profiles","address":"127.0.0.1","port":6061/);
});
