// README.md.gotmpl: the published chart's README template (seed.README.md.gotmpl)
// with the sections that describe what we ship regenerated from the code: the
// security section from security.ts, the metric tables from the agent's metric
// definitions. helm-docs then renders README.md (badges, values table) from it.
import { readFileSync } from 'node:fs';
import { METRIC_LIST, type MetricDefinition } from '../../../agent/src/metrics/definitions.js';
import { EXAMPLE_NAMESPACE, EXAMPLE_RELEASE } from '../chart-info.js';
import { AGENT_CAPABILITIES, BPFFS_PATH, METRICS_TLS_DIR, PRIVILEGED_EXTRA_CAPABILITY } from '../security.js';

const SEED = new URL('./seed.README.md.gotmpl', import.meta.url);

interface Section {
  readonly title: string;
  body: string;
}

/** Splits at level-2 headings; the text before the first one has the title "". */
function sections(text: string): Section[] {
  const out: Section[] = [{ title: '', body: '' }];
  for (const line of text.split('\n')) {
    const m = /^## (.+)$/.exec(line);
    if (m) out.push({ title: m[1]!, body: '' });
    else out[out.length - 1]!.body += `${line}\n`;
  }
  return out;
}

const join = (secs: readonly Section[]): string =>
  secs.map((s) => (s.title ? `## ${s.title}\n${s.body}` : s.body)).join('').replace(/\n{3,}/g, '\n\n');

const cap = (t: string): string => t.charAt(0).toUpperCase() + t.slice(1);

function metricTable(group: MetricDefinition['group']): string {
  const rows = METRIC_LIST.filter((m) => m.group === group).map((m) =>
    `| \`${m.name}\` | ${cap(m.type)} | ${m.labels.map((l) => `\`${l}\``).join(', ') || '-'} | ${m.help.replace(/\|/g, '\\|')} |`);
  return ['| Metric | Type | Labels | Description |', '|--------|------|--------|-------------|', ...rows].join('\n');
}

function metricsSection(): string {
  return `
### Pod-Level Traffic Metrics

${metricTable('traffic')}

### Internal Monitoring Metrics

${metricTable('internal')}

Both tables are generated from the agent's metric definitions, so they list exactly what \`/metrics\` serves.

`;
}

function securitySection(): string {
  const caps = AGENT_CAPABILITIES.map((c) => `| \`CAP_${c.name}\` | ${c.operations} |`).join('\n');
  return `
The agent runs as root (bpffs and netlink belong to root) but is **not privileged** by default:
it drops every capability and adds back only these:

| Capability | Needed for |
|------------|------------|
${caps}

The container's default security context:

\`\`\`yaml
securityContext:
  privileged: false
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  runAsUser: 0
  capabilities:
    drop: [ALL]
    add: [${AGENT_CAPABILITIES.map((c) => c.name).join(', ')}]
  seccompProfile:
    type: RuntimeDefault
\`\`\`

Kernels older than 5.8 have no \`CAP_BPF\` (\`bpf()\` needs \`CAP_SYS_ADMIN\` there): set
\`securityContext.privileged=true\`, which also adds \`${PRIVILEGED_EXTRA_CAPABILITY}\`.

Additionally requires:
- \`hostNetwork: true\` - attach to the node's interfaces and serve \`/metrics\` on the node's address
- no \`hostPID\`: the published chart set \`hostPID: true\` "to track processes", but the agent
  attributes traffic by IP pair and never looks at the node's processes, so this chart leaves it out
- \`${BPFFS_PATH}\` from the host (hostPath, \`DirectoryOrCreate\`) - pinned maps and programs outlive a
  restart, so a rolling update loses no counts; nothing else is mounted from the host
- a namespace whose Pod Security level admits host namespaces and hostPath, e.g.
  \`kubectl label namespace ${EXAMPLE_NAMESPACE} pod-security.kubernetes.io/enforce=privileged\`

\`/metrics\` on the node's address is open to anyone who reaches the node (\`networkPolicy\` does not
cover host-network pods in most CNIs). With \`config.metricsAuth=kubernetes\` the agent serves HTTPS with
the \`kubernetes.io/tls\` Secret named by \`metricsAuth.tlsSecretName\` (mounted at \`${METRICS_TLS_DIR}\`) and
lets a scrape through only when its bearer token passes a TokenReview and a SubjectAccessReview for
\`get\` on \`/metrics\`; the chart switches the probes to HTTPS, binds the agent to \`system:auth-delegator\`,
creates the ClusterRole \`<fullname>-metrics-reader\` (bind your Prometheus to it) and gives the
ServiceMonitor (Prometheus's own token) and PodMonitor (\`metricsAuth.podMonitorTokenSecret\`) the
scheme, token and TLS settings. See docs/security.md.

`;
}

const MANIFESTS = `
## Plain Manifests (ArgoCD, Flux)

\`dist/manifests/\` in the source repository holds the chart rendered with its default values
(release \`${EXAMPLE_RELEASE}\`, namespace \`${EXAMPLE_NAMESPACE}\`), for GitOps tools that apply plain YAML.
It is regenerated with the chart, so it never drifts from it.

`;

const UNINSTALL_NOTE = `
On SIGTERM each agent keeps its pinned programs and maps while its DaemonSet exists (a rolling
update loses nothing) and removes them when the DaemonSet is gone, so an uninstall leaves no
BPF state on the nodes. It watches its own DaemonSet from start-up for this (\`rbac.create\`
grants get, list and watch of that one name): helm deletes the ServiceAccount in the same
uninstall, so the deletion must be known before the pod's token stops working. Deleting the
namespace instead, or an API server unreachable at shutdown, can leave the state in place:
\`node /app/agent/dist/main.js cleanup\` on the node removes it (see docs/architecture.md).

`;

const UPGRADING = `
## Upgrading from the Published Chart

Every key of the published chart keeps its name and meaning, so an existing values file works
unchanged (the tests render the published defaults). What changes by default:

- the agent is no longer privileged: it runs with the capabilities in "Security Requirements", and only
  \`${BPFFS_PATH}\` is mounted from the host (no \`/sys\`, \`/proc\`, cgroup or debugfs mounts)
- \`image.tag\` defaults to the chart's appVersion and \`image.pullPolicy\` to \`IfNotPresent\`
- \`tolerations\` tolerate every taint, \`nodeSelector\` keeps the agent on Linux nodes, and
  \`priorityClassName\` is \`system-node-critical\`
- a \`preflight\` init container checks the node first, and a Role lets the agent read its own DaemonSet
- the Prometheus Operator, Grafana, alerting and NetworkPolicy objects are available, all off by default

`;

const TROUBLESHOOTING_EXTRA = `
### Pods Stay in Init

The \`preflight\` init container checks the kernel, BTF, bpffs and capabilities and says what is missing:

\`\`\`bash
kubectl logs -n ${EXAMPLE_NAMESPACE} daemonset/${EXAMPLE_RELEASE} -c preflight
\`\`\`

Kernels before 5.8 need \`--set securityContext.privileged=true\`.
`;

export function readmeTemplate(): string {
  const secs = sections(readFileSync(SEED, 'utf8'));
  const find = (title: string): Section => {
    const s = secs.find((x) => x.title === title);
    if (!s) throw new Error(`the seed README has no "## ${title}" section`);
    return s;
  };
  // helm-docs directives (values table, requirements) in a replaced body are kept, after the new text.
  const replace = (title: string, body: string): void => {
    const section = find(title);
    const directives = section.body.split('\n').filter((l) => l.includes('{{ template "chart.'));
    section.body = body + (directives.length ? `${directives.join('\n\n')}\n\n` : '');
  };
  replace('Security Requirements', securitySection());
  replace('Exported Metrics', metricsSection());
  find('Uninstalling the Chart').body += UNINSTALL_NOTE;
  const troubleshooting = find('Troubleshooting');
  // The kernel keeps 15 characters of a map name ("connection_flow"); -f lists
  // the pinned paths, where the full name is.
  troubleshooting.body = troubleshooting.body.replace(
    'sudo bpftool map list | grep connection_flows',
    'sudo bpftool -f map list | grep connection_flows   # -f: pinned paths; map names are cut to 15 characters',
  ) + TROUBLESHOOTING_EXTRA;
  const install = secs.indexOf(find('Installing the Chart'));
  secs.splice(install + 1, 0, ...sections(MANIFESTS).slice(1));
  const uninstall = secs.indexOf(find('Uninstalling the Chart'));
  secs.splice(uninstall + 1, 0, ...sections(UPGRADING).slice(1));
  const text = join(secs);
  for (const directive of ['chart.valuesSection', 'chart.versionBadge']) {
    if (!text.includes(directive)) throw new Error(`README template lost the helm-docs ${directive}`);
  }
  return text;
}
