// values.schema.json: generated from the same definition as values.yaml; helm
// refuses bad values with a message naming the key, the value and what is
// accepted; and it accepts what the agent accepts.
import test from 'ava';
import { Ajv } from 'ajv';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { defaults, type Json, type JsonSchema } from '../../cdk8s/src/values/dsl.js';
import { CHART_SETTINGS, VALUES } from '../../cdk8s/src/values/values.js';
import { CHART_DIR, helm, templateArgs } from './lib/helm.js';

const schema = JSON.parse(readFileSync(join(CHART_DIR, 'values.schema.json'), 'utf8')) as JsonSchema;
const valuesYaml = parse(readFileSync(join(CHART_DIR, 'values.yaml'), 'utf8')) as Json;
const ajv = new Ajv({ strict: false, allErrors: true });
const validateValues = ajv.compile(schema);

test('values.yaml is the typed definition\'s defaults, and satisfies values.schema.json', (t) => {
  t.deepEqual(valuesYaml, defaults(VALUES));
  t.true(validateValues(valuesYaml), ajv.errorsText(validateValues.errors));
});

test('the published chart\'s default values satisfy values.schema.json', (t) => {
  const published = parse(readFileSync(join(import.meta.dirname, 'fixtures/published-values.yaml'), 'utf8'));
  t.true(validateValues(published), ajv.errorsText(validateValues.errors));
});

const BAD: Array<{ set?: string; file?: string; error: string }> = [
  { set: 'config.metricsPort=0', error: "- at '/config/metricsPort': minimum: got 0, want 1" },
  { set: 'config.maxFlows=8', error: "- at '/config/maxFlows': minimum: got 8, want 16" },
  { set: 'config.logLevel=verbose', error: "- at '/config/logLevel': value must be one of 'debug', 'info', 'warn', 'error'" },
  { set: 'config.collectionInterval=soon', error: "- at '/config/collectionInterval': 'soon' does not match pattern" },
  { set: 'config.metricPort=9090', error: "- at '/config': additional properties 'metricPort' not allowed" },
  { set: 'image.pullPolicy=Sometimes', error: "- at '/image/pullPolicy': value must be one of 'Always', 'IfNotPresent', 'Never'" },
  { set: 'securityContext.capabilities[0]=cap_bpf', error: "- at '/securityContext/capabilities/0': 'cap_bpf' does not match pattern '^[A-Z_]+$'" },
  { set: 'securityContext.privileged=maybe', error: "- at '/securityContext/privileged': got string, want boolean" },
  { set: 'updateStrategy.type=Recreate', error: "- at '/updateStrategy/type': value must be one of 'RollingUpdate', 'OnDelete'" },
  { set: 'serviceMonitor.interval=30x', error: "- at '/serviceMonitor/interval': '30x' does not match pattern" },
  { set: 'serviceMonitor.interval=30', error: "- at '/serviceMonitor/interval': got number, want string" },
  { set: 'env[0].value=x', error: "- at '/env/0': missing property 'name'" },
  { set: 'config.uplinkInterfaces=eth0/1', error: "- at '/config/uplinkInterfaces': 'eth0/1' does not match pattern" },
  { set: 'config.pinPath=/var/run/kubeadapt', error: "- at '/config/pinPath': '/var/run/kubeadapt' does not match pattern" },
  { set: 'config.pinPath=/sys/fs/bpf/../../etc', error: "- at '/config/pinPath': '/sys/fs/bpf/../../etc' does not match pattern" },
];

for (const bad of BAD) {
  test(`helm refuses ${bad.set} naming the key and what it accepts`, async (t) => {
    const r = await helm(templateArgs({ set: [bad.set!] }));
    t.not(r.code, 0);
    t.true(r.stderr.includes("values don't meet the specifications of the schema(s)"), r.stderr);
    t.true(r.stderr.includes(bad.error), r.stderr);
  });
}

// Texts probed against each setting: the schema must accept exactly what the agent's parser accepts.
const PROBES = [
  '0', '1', '15', '16', '6060', '65535', '65536', '16777216', '16777217', 'true', 'false', 'yes',
  'debug', 'info', 'warn', 'error', 'verbose', 'json', 'console', 'text', 'default', 'disabled', 'off',
  'auto', 'tcx', 'tc', 'xdp', '25s', '1m30s', '5m', '25', '1d', 's', '/sys/fs/bpf/kubeadapt', '/', 'relative',
  '0.0.0.0', '127.0.0.1', '255.255.255.255', '256.1.1.1', '::', 'fe80::1', 'localhost',
  // Traversal and look-alikes in paths (the pin path is removed recursively on cleanup).
  '/sys/fs/bpf/..', '/sys/fs/bpf/../../etc', '/sys/fs/bpf/kubeadapt/..', '/sys/fs/bpf/./kubeadapt', '/sys/fs/bpf//kubeadapt',
  '/sys/fs/bpf/.kubeadapt', '/sys/fs/bpf/..kubeadapt', '/sys/fs/bpf/kubeadapt/', '/sys/fs/bpf/kube adapt', '/sys/fs/bpf/kubeädapt',
  '/sys/fs/cgroup/kubepods.slice', '/sys/fs/cgroup/../kubepods', `/sys/fs/bpf/${'x'.repeat(1100)}`,
  'eth0', 'eth0,bond*', 'eth0 eth1', 'eth0,,eth1', '*', 'a-name-longer-than-15', 'eth0/1',
];
/** Where the chart is deliberately narrower than the agent, and why. */
const NARROWER: Record<string, { probe: string; why: string; chartAccepts: (text: string) => boolean }> = {
  pinPath: { probe: '/var/run/kubeadapt', why: 'the pod mounts only /sys/fs/bpf from the host', chartAccepts: (text) => text.startsWith('/sys/fs/bpf/') },
  kubernetes: { probe: 'off', why: 'values are booleans: YAML 1.1 reads a bare on/off as one (the agent takes on/off from the environment too)', chartAccepts: (text) => text === 'true' || text === 'false' },
  pairMetrics: { probe: 'off', why: 'values are booleans: YAML 1.1 reads a bare on/off as one (the agent takes on/off from the environment too)', chartAccepts: (text) => text === 'true' || text === 'false' },
};

test('each config value\'s schema accepts exactly what the agent accepts', (t) => {
  const config = (schema.properties as { config: { properties: Record<string, JsonSchema> } }).config.properties;
  t.true(CHART_SETTINGS.length >= 11);
  for (const { key, setting } of CHART_SETTINGS) {
    const s = config[key];
    t.truthy(s, `config.${key} missing from the schema`);
    const check = ajv.compile(s!);
    for (const text of PROBES) {
      const typed = s!.type === 'integer' ? (/^\d+$/.test(text) ? Number(text) : text)
        : s!.type === 'boolean' ? (text === 'true' ? true : text === 'false' ? false : text) : text;
      const accepted = setting.parse(text) !== undefined && (NARROWER[key]?.chartAccepts(text) ?? true);
      t.is(check(typed), accepted, `config.${key} = ${JSON.stringify(typed)}: schema and agent disagree`);
    }
    const narrower = NARROWER[key];
    if (narrower) {
      t.not(setting.parse(narrower.probe), undefined);
      t.false(check(narrower.probe), `config.${key}: ${narrower.why}`);
    }
  }
});
