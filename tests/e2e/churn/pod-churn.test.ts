// Pod churn: 100 pods (tcx; 30 with legacy TC) are created and deleted (4 at a time, ptp and bridge)
// while a long-lived pair keeps talking. The agent follows links through
// rtnetlink from user space, so a pod's veth is hooked some time after it
// appears; this test measures that latency (`ip -ts monitor link` in the node
// vs the agent's "attached" log line, written after the kernel call returned)
// and proves the bound: every packet a pod sends from ATTACH_BOUND_MS after its
// veth appeared on is counted, every pair's bytes and packets equal the node's
// nftables counters exactly. Afterwards nothing of the churned pods is left:
// no tcx links or fds in the agent, no attachments, no flow-map entries, and
// the agent's RSS is back within a bound of where it was.
import test from 'ava';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, readlinkSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { SimulatedNode, type Counts, type Pod } from '../helpers/topology.js';
import { diffCounts } from '../helpers/cluster.js';
import { AgentProcess } from '../helpers/agent-process.js';
import { Sinks, send } from '../helpers/traffic.js';
import { inNetns, inNetnsJson, run, runJson, startProcess, stopProcess } from '../helpers/exec.js';

const SENDER = join(dirname(fileURLToPath(import.meta.url)), 'sender.mjs');
const CONCURRENCY = 4;
/**
 * The discovery test's bound for one quiet pod, kept under churn on 2 cores.
 * Measured here: p50 ~40 ms, max ~440 ms; CNI ADD returns 10-25 ms after the
 * veth appears, so a pod that sends at once can lose its first packets.
 */
const ATTACH_BOUND_MS = 1000;
/**
 * RSS may grow by V8's and the allocator's slack (measured: +4.5 MiB over 100
 * pods, 60 MiB to start with), not with pods: a leak of 160 KiB a pod (a kept
 * buffer, a drained map copy) would cross it. Smaller per-pod leaks of kernel
 * objects are caught exactly by the fd, tcx link and map checks.
 */
const RSS_BOUND_KIB = 16 * 1024;

/** Oracle: every TCP/UDP packet the node forwards, per (src, dst, protocol), in dynamic sets with counters. */
async function installOracle(node: SimulatedNode): Promise<void> {
  const set = (name: string, addr: string) => `set ${name} { type ${addr} . ${addr} . inet_proto; flags dynamic; size 65535; counter; }`;
  await inNetns(node.netns, 'nft', ['-f', '-'], {
    input: `table inet ka_churn {
  ${set('v4', 'ipv4_addr')}
  ${set('v6', 'ipv6_addr')}
  chain forward_oracle {
    type filter hook forward priority -500; policy accept;
    meta nfproto ipv4 meta l4proto { tcp, udp } update @v4 { ip saddr . ip daddr . meta l4proto }
    meta nfproto ipv6 meta l4proto { tcp, udp } update @v6 { ip6 saddr . ip6 daddr . meta l4proto }
  }
}
`,
  });
}

async function readOracle(node: SimulatedNode): Promise<Map<string, Counts>> {
  const out = new Map<string, Counts>();
  for (const name of ['v4', 'v6']) {
    type Elem = { elem: { val: { concat: [string, string, string] }; counter: Counts } };
    const listing = await inNetnsJson<{ nftables: { set?: { elem?: Elem[] } }[] }>(node.netns, 'nft', ['-j', 'list', 'set', 'inet', 'ka_churn', name]);
    const set = listing.nftables.find((x) => x.set)!.set!;
    for (const { elem } of set.elem ?? []) {
      const [src, dst, proto] = elem.val.concat;
      out.set(`${src}|${dst}|${proto}`, { bytes: elem.counter.bytes, packets: elem.counter.packets });
    }
  }
  return out;
}


/** The node process behind the nsenter we started (nsenter execs, so it is the same pid). */
function agentProcess(pid: number) {
  // By executable, not comm: Node 24 names its main thread "MainThread".
  const exe = readlinkSync(`/proc/${pid}/exe`);
  if (exe !== process.execPath) throw new Error(`pid ${pid} runs ${exe}, not the agent's node (${process.execPath})`);
  const rssKiB = Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
  const fds = readdirSync(`/proc/${pid}/fd`).map((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      return '';
    }
  });
  return { rssKiB, fds: fds.length, bpfLinks: fds.filter((f) => f === 'anon_inode:bpf_link').length };
}

/** First time each interface name appeared in the node netns (ms since epoch). */
function parseMonitor(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^\[(\d{4}-\d\d-\d\dT[\d:.]+)\] (?!Deleted)\d+: ([^@:\s]+)/gm)) {
    if (!out.has(m[2]!)) out.set(m[2]!, Date.parse(`${m[1]}Z`));
  }
  return out;
}

function parseAttached(agentOutput: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of agentOutput.split('\n')) {
    if (!line.startsWith('{')) continue;
    const l = JSON.parse(line) as { msg: string; time: string; interface?: string };
    if (l.msg === 'attached' && l.interface && !out.has(l.interface)) out.set(l.interface, Date.parse(l.time));
  }
  return out;
}

async function vethAppeared(monitorOutput: () => string, name: string): Promise<number> {
  for (const until = Date.now() + 2000; Date.now() < until; await sleep(10)) {
    const at = parseMonitor(monitorOutput()).get(name);
    if (at !== undefined) return at;
  }
  throw new Error(`${name} never showed up in ip monitor link`);
}

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

/** tcx (this kernel's auto) with the full 100 pods; legacy TC with fewer to keep the suite short. */
for (const [mode, PODS, index] of [['tcx', 100, 50], ['tc', 30, 56]] as const) {
  test.serial(`attach ${mode}: ${PODS} pods created and deleted under traffic: every packet from ${ATTACH_BOUND_MS} ms after the veth appeared counted exactly, nothing leaks`, async (t) => {
    const node = await new SimulatedNode(index).create();
    t.teardown(() => node.destroy());
    await inNetns(node.netns, 'sysctl', ['-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0']);
    const sink = await node.addPod('ptp', { skipDad: true });
    const talker = await node.addPod('bridge', { skipDad: true });
    await node.setOffloads('off');
    await installOracle(node);
    const sinks = new Sinks();
    t.teardown(() => sinks.stop());
    await sinks.start([sink]);

    const monitor = await startProcess('ip', ['netns', 'exec', node.netns, 'ip', '-ts', 'monitor', 'link'], null, { ...process.env, TZ: 'UTC' });
    t.teardown(() => stopProcess(monitor.child, 1000));
    const agent = await AgentProcess.start(node, { EBPF_ATTACH_MODE: mode });
    t.teardown(() => agent.stop());
    await agent.waitReady();

    // The long-lived pair talks for the whole churn (TCP, UDP, both families).
    let churning = true;
    const background = (async () => {
      let rounds = 0;
      do {
        await send(talker, sink.ipv4, { udpCount: 50, udpSize: 400, tcpBytes: 100_000 });
        await send(talker, sink.ipv6, { udpCount: 50, udpSize: 900 });
        rounds++;
      } while (churning);
      return rounds;
    })();
    t.teardown(async () => {
      churning = false;
      await background.catch(() => undefined);
    });
    await agent.waitForCollections(2);
    const attachedBefore = (await agent.samples()).find((s) => s.name === 'kubeadapt_attached_interfaces')!.value;
    const before = agentProcess(agent.pid);
    const logFrom = agent.output().length;

    const senders = new Set<ChildProcess>();
    const podNetns = new Set<string>();
    let next = 0;
    t.teardown(async () => {
      next = PODS; // a failed test stops the workers from starting more pods
      for (const c of senders) await stopProcess(c, 1000);
      for (const netns of podNetns) await run('ip', ['netns', 'del', netns], { allowFail: true });
    });
    const addReturned = new Map<string, number>();
    const churned: Pod[] = [];
    const started = Date.now();
    const worker = async () => {
      while (next < PODS) {
        const i = next++;
        let sender: Awaited<ReturnType<typeof startProcess>> | undefined;
        const pod = await node.addPod(i % 2 ? 'bridge' : 'ptp', {
          skipDad: true,
          beforeCni: async (netns) => {
            podNetns.add(netns);
            sender = await startProcess('ip', ['netns', 'exec', netns, process.execPath, SENDER,
              `--to4=${sink.ipv4}`, `--to6=${sink.ipv6}`, `--udp-count=${5 + (i % 7)}`, `--udp-size=${100 + i}`, `--tcp-bytes=${500 + i}`], /ready/);
            senders.add(sender.child);
          },
        });
        addReturned.set(pod.hostVeth, Date.now());
        churned.push(pod);
        // The bound under test: the pod's first packet leaves ATTACH_BOUND_MS
        // after its veth appeared (CNI ADD itself returns ~10-25 ms after that).
        const appearedAt = await vethAppeared(monitor.output, pod.hostVeth);
        await sleep(Math.max(0, appearedAt + ATTACH_BOUND_MS - Date.now()));
        const child = sender!.child;
        const exited = child.exitCode !== null || child.signalCode !== null
          ? Promise.resolve(child.exitCode)
          : new Promise<number | null>((r) => child.once('exit', r));
        child.kill('SIGUSR2'); // `ip netns exec` execs: this is the sender itself
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        const code = await exited;
        clearTimeout(timer);
        senders.delete(child);
        if (code !== 0) throw new Error(`sender in ${pod.name} (${pod.cni}, ${pod.ipv4}) exited ${code}: ${sender!.output()}`);
        await node.deletePod(pod);
        podNetns.delete(pod.netns);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const churnSeconds = (Date.now() - started) / 1000;
    churning = false;
    const rounds = await background;
    t.log(`${PODS} pods churned in ${churnSeconds.toFixed(1)} s (${CONCURRENCY} at a time) beside ${rounds} rounds of background traffic`);

    await agent.waitForCollections(2);
    // Attach latency: veth appeared in the node netns -> the agent logged it attached (after the kernel call returned).
    const appeared = parseMonitor(monitor.output());
    const attached = parseAttached(agent.output());
    const latencies: number[] = [];
    const missing: string[] = [];
    const timeline = new Map<string, string>();
    let beforeAddReturned = 0;
    for (const pod of churned) {
      const a = attached.get(pod.hostVeth);
      const v = appeared.get(pod.hostVeth);
      if (a === undefined || v === undefined) {
        missing.push(`${pod.name} ${pod.hostVeth}: attached ${a}, appeared ${v}`);
        continue;
      }
      const line = `${pod.name} ${pod.cni} ${pod.hostVeth}: appeared ${v}, attached +${a - v} ms, CNI ADD returned +${addReturned.get(pod.hostVeth)! - v} ms`;
      timeline.set(pod.ipv4, line).set(pod.ipv6, line);
      latencies.push(Math.max(0, a - v));
      if (a <= addReturned.get(pod.hostVeth)!) beforeAddReturned++;
    }
    const max = Math.max(...latencies);
    t.log(`attach latency from veth appearance: p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms, max ${max} ms; attached before CNI ADD returned: ${beforeAddReturned}/${churned.length}`);
    t.deepEqual(missing, [], 'every churned veth appeared and was attached');
    t.true(max <= ATTACH_BOUND_MS, `every churned veth hooked within ${ATTACH_BOUND_MS} ms (max ${max} ms)`);

    const oracle = await readOracle(node);
    t.true(oracle.size >= PODS * 3, `the oracle saw ${oracle.size} pairs`);
    const wrong = diffCounts(await agent.traffic(), oracle);
    for (const w of wrong) t.log(w, timeline.get(w.split('|')[0]!) ?? '');
    t.deepEqual(wrong, [], 'every pair equals the forward oracle exactly');
    const problems = agent.output().slice(logFrom).split('\n').filter((l) => /"level":"(warn|error)"/.test(l));
    t.deepEqual(problems, [], 'the agent logged no warning or error during the churn');

    // Nothing leaks.
    await sinks.stop();
    await agent.waitForCollections(2);
    const samples = await agent.samples();
    t.is(samples.find((s) => s.name === 'kubeadapt_attached_interfaces')!.value, attachedBefore, 'attached interfaces back to the start value');
    const live = new Set([sink.hostVeth, talker.hostVeth]);
    const hooks = (await node.hooks()).filter((h) => h.name === 'tc_pod_egress');
    t.deepEqual(hooks.map((h) => h.link).sort(), [...live].sort(), 'tc_pod_egress only on the live pods');
    for (const map of ['connection_flows', 'connection_flows_1']) {
      t.deepEqual(await runJson('bpftool', ['-j', 'map', 'dump', 'pinned', join(agent.pinPath, map)]), [], `${map} is empty after two collections without traffic`);
    }
    const after = agentProcess(agent.pid);
    t.log(`agent RSS ${before.rssKiB} KiB before, ${after.rssKiB} KiB after (${after.rssKiB - before.rssKiB >= 0 ? '+' : ''}${after.rssKiB - before.rssKiB} KiB); fds ${before.fds} -> ${after.fds}; bpf links ${before.bpfLinks} -> ${after.bpfLinks}`);
    t.is(after.bpfLinks, before.bpfLinks, 'no tcx link of a deleted pod is kept');
    t.is(after.fds, before.fds, 'no fd leaked');
    t.true(after.rssKiB - before.rssKiB <= RSS_BOUND_KIB, `RSS grew by ${after.rssKiB - before.rssKiB} KiB (bound ${RSS_BOUND_KIB} KiB)`);
  });
}
