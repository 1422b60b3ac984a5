// Config through the real entry point: every bad value exits 2 with one line
// naming the setting, the value and what is accepted.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { loadConfig } from '../../agent/src/config/load.js';
import { SETTINGS, parseDuration } from '../../agent/src/config/settings.js';
import { AGENT_MAIN } from '../e2e/helpers/agent-process.js';

function runAgent(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [AGENT_MAIN, ...args], { env: { PATH: process.env.PATH, ...env }, encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const BAD: [string, string, string][] = [
  ['EBPF_METRICS_PORT', '0', 'an integer from 1 to 65535'],
  ['EBPF_METRICS_PORT', 'http', 'an integer from 1 to 65535'],
  ['EBPF_METRICS_ADDRESS', 'localhost:9090', 'an IPv4 or IPv6 address'],
  ['EBPF_COLLECTION_INTERVAL', '25', 'a duration from 100ms to 1h'],
  ['EBPF_COLLECTION_INTERVAL', '10ms', 'a duration from 100ms to 1h'],
  ['EBPF_LOG_LEVEL', 'verbose', 'one of debug, info, warn, error'],
  ['EBPF_LOG_FORMAT', 'text', 'one of json, console'],
  ['EBPF_NETNS_FILTER_MODE', 'off', 'one of default, disabled'],
  ['EBPF_CONNECTION_TRACKING', 'yes', 'true or false'],
  ['EBPF_BPF_PIN_PATH', 'relative/path', 'an absolute path'],
  ['EBPF_MAX_FLOWS', '8', 'an integer from 16 to 16777216'],
  ['EBPF_MAX_PAIRS', '1023', 'an integer from 1024 to 16777216'],
  ['EBPF_MAX_PAIRS', '2e6', 'an integer from 1024 to 16777216'],
  ['EBPF_PAIR_TTL', '0s', 'a duration from 1s to 24h'],
  ['EBPF_ATTACH_MODE', 'xdp', 'one of auto, tcx, tc'],
  ['EBPF_UPLINK_INTERFACES', 'eth0 eth1', 'auto or a comma-separated list of interface names, each optionally ending in * to match a prefix, such as eth0 or eth0,bond*'],
  ['EBPF_UPLINK_INTERFACES', 'eth0,,eth1', 'auto or a comma-separated list of interface names'],
  ['EBPF_UPLINK_INTERFACES', 'a-name-longer-than-15', 'auto or a comma-separated list of interface names'],
  ['EBPF_UPLINK_INTERFACES', '*', 'auto or a comma-separated list of interface names'],
];

for (const [env, value, accepted] of BAD) {
  test(`${env}=${value} exits 2 with one line`, (t) => {
    const r = runAgent([], { [env]: value });
    t.is(r.status, 2);
    t.is(r.stdout, '');
    t.true(r.stderr.startsWith(`ebpf-agent: invalid ${env}=${JSON.stringify(value)}: expected ${accepted}`), r.stderr);
    t.is(r.stderr.split('\n').length, 2, 'exactly one line');
  });
}

test('flags win over the environment and bad flags exit 2', (t) => {
  const c = loadConfig(['--metrics-port', '9100', '--collection-interval=1m30s'], { EBPF_METRICS_PORT: '9999' });
  t.is(c.metricsPort, 9100);
  t.is(c.collectionInterval, 90_000);
  const r = runAgent(['--max-flows', 'many']);
  t.is(r.status, 2);
  t.is(r.stderr, 'ebpf-agent: invalid --max-flows="many": expected an integer from 16 to 16777216\n');
  const u = runAgent(['--no-such-flag']);
  t.is(u.status, 2);
  t.regex(u.stderr, /unknown argument "--no-such-flag"/);
  t.is(runAgent(['frobnicate']).status, 2);
});

test('EBPF_UPLINK_INTERFACES: auto or a list of names and prefixes', (t) => {
  t.is(loadConfig([], {}).uplinkInterfaces, 'auto');
  t.deepEqual(loadConfig([], { EBPF_UPLINK_INTERFACES: 'eth0,bond*' }).uplinkInterfaces, ['eth0', 'bond*']);
  t.deepEqual(loadConfig(['--uplink-interfaces', 'ens5'], { EBPF_UPLINK_INTERFACES: 'eth0' }).uplinkInterfaces, ['ens5']);
  t.is(SETTINGS.uplinkInterfaces.format(['eth0', 'bond*']), 'eth0,bond*');
});

test('defaults are the published chart defaults', (t) => {
  const c = loadConfig([], {});
  t.is(c.metricsPort, 9090);
  t.is(c.collectionInterval, 25_000);
  t.is(c.logLevel, 'info');
  t.is(c.logFormat, 'json');
  t.is(c.netnsFilterMode, 'default');
  t.is(c.connectionTracking, true);
  t.is(c.pinPath, '/sys/fs/bpf/kubeadapt');
  t.is(c.metricsAddress, '0.0.0.0');
  t.is(c.maxPairs, 131072, 'the ledger size the agent had before it was a setting (2 × the default EBPF_MAX_FLOWS)');
});

test('durations parse like Go durations', (t) => {
  t.is(parseDuration('500ms'), 500);
  t.is(parseDuration('1s'), 1000);
  t.is(parseDuration('1h2m3s'), 3_723_000);
  t.is(parseDuration('1.5s'), 1500);
  t.is(parseDuration('1 s'), undefined);
  t.is(parseDuration(''), undefined);
  t.is(parseDuration('5'), undefined);
});

test('--help lists every setting with its environment variable and flag', (t) => {
  const r = runAgent(['--help']);
  t.is(r.status, 0);
  for (const s of Object.values(SETTINGS)) {
    t.true(r.stdout.includes(s.env), s.env);
    t.true(r.stdout.includes(s.flag), s.flag);
  }
});

test('the pods cgroup is looked for on every cgroup v2 mount', async (t) => {
  const { resolvePodCgroup, cgroup2Mounts } = await import('../../agent/src/interfaces/cgroup.js');
  const mounts = cgroup2Mounts('36 25 0:30 /../../.. /host/sys/fs/cgroup ro,nosuid - cgroup2 cgroup2 rw\n40 25 0:31 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n41 25 0:32 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n');
  t.deepEqual(mounts, [{ root: '/../../..', mountPoint: '/host/sys/fs/cgroup' }, { root: '/', mountPoint: '/sys/fs/cgroup' }]);
  const real = cgroup2Mounts()[0];
  if (!real) return t.fail('no cgroup v2 mount on this machine');
  t.deepEqual(resolvePodCgroup(real.mountPoint, [real]), { path: real.mountPoint });
  t.is(resolvePodCgroup('/nonexistent/kubepods', [real]), undefined);
  t.is(resolvePodCgroup('auto', [{ root: '/', mountPoint: '/nonexistent' }]), undefined);
});
