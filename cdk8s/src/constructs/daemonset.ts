// The agent DaemonSet: one pod per node, in the host network and PID namespaces
// (as the published chart), with capabilities instead of privileges, bpffs from
// the host and nothing else from it.
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { HelmChart } from '../helm/chart.js';
import { appendList, block, bool, expr, num, withValue } from '../helm/sentinels.js';
import { BPFFS_PATH, METRICS_TLS_DIR } from '../security.js';
import { agentEnv } from './agent-env.js';
import { DESTINATIONS_DIR, DESTINATIONS_NAME } from './destinations-configmap.js';
import { config, FULLNAME, include, KUBERNETES_AUTH, labelsWith, NAMESPACE, V } from './refs.js';

export interface AgentDaemonSetProps {
  /**
   * Container name of the agent.
   * @default "ebpf-agent"
   */
  readonly containerName?: string;
  /**
   * Liveness probe path on the metrics port.
   * @default "/health/live"
   */
  readonly livenessPath?: string;
  /**
   * Readiness probe path on the metrics port.
   * @default "/health/ready"
   */
  readonly readinessPath?: string;
}

const METRICS_PORT_NAME = 'metrics';

export class AgentDaemonSet extends Construct {
  public readonly daemonSet: k8s.KubeDaemonSet;

  public constructor(chart: HelmChart, id: string, props: AgentDaemonSetProps = {}) {
    super(chart, id);
    const containerName = props.containerName ?? 'ebpf-agent';
    const sc = V.securityContext;
    const securityContext: k8s.SecurityContext = {
      privileged: bool(sc.privileged.$ref),
      // Privileged containers always may escalate; the API rejects the pair privileged/no-escalation.
      allowPrivilegeEscalation: bool(sc.privileged.$ref),
      runAsUser: num(sc.runAsUser.$ref),
      readOnlyRootFilesystem: bool(sc.readOnlyRootFilesystem.$ref),
      capabilities: { drop: ['ALL'] },
    };
    const bpffsMount: k8s.VolumeMount = {
      name: 'bpffs', mountPath: BPFFS_PATH,
      // Pins survive agent restarts on the host's bpffs; a bpffs the host mounts later still shows up.
      mountPropagation: 'HostToContainer',
    };
    const image = expr(`${include('image')} | quote`);
    const metricsPort = config('metricsPort');
    const probe = (path: string, initialDelaySeconds: number, periodSeconds: number): k8s.Probe => ({
      // HTTPS only when config.metricsAuth is kubernetes (a keyIf below); /health/* needs no token.
      httpGet: { path, port: k8s.IntOrString.fromString(METRICS_PORT_NAME), scheme: 'HTTPS' },
      initialDelaySeconds, periodSeconds, timeoutSeconds: 5, failureThreshold: 3,
    });

    this.daemonSet = new k8s.KubeDaemonSet(this, 'daemonset', {
      metadata: { name: expr(FULLNAME), namespace: expr(NAMESPACE) },
      spec: {
        selector: {},
        template: {
          spec: {
            serviceAccountName: expr(include('serviceAccountName')),
            hostNetwork: true,
            dnsPolicy: 'ClusterFirstWithHostNet',
            priorityClassName: expr(V.priorityClassName.$ref),
            terminationGracePeriodSeconds: num(V.terminationGracePeriodSeconds.$ref),
            initContainers: [{
              name: 'preflight',
              image, imagePullPolicy: expr(V.image.pullPolicy.$ref),
              args: ['check'],
              securityContext,
              volumeMounts: [bpffsMount],
            }],
            containers: [{
              name: containerName,
              image, imagePullPolicy: expr(V.image.pullPolicy.$ref),
              ports: [
                { name: METRICS_PORT_NAME, containerPort: num(metricsPort.$ref), protocol: 'TCP' },
                { name: 'profiling', containerPort: num(config('profilingPort').$ref), protocol: 'TCP' },
              ],
              securityContext,
              // The host's cgroup v2 tree, read-only: in netns filter mode default the
              // agent finds kubepods there to tell hostNetwork pods from host processes.
              volumeMounts: [
                bpffsMount, { name: 'tmp', mountPath: '/tmp' }, { name: 'cgroup', mountPath: '/host/sys/fs/cgroup', readOnly: true },
                { name: 'cost-destinations', mountPath: DESTINATIONS_DIR, readOnly: true },
                // config.metricsAuth kubernetes: the agent's default tls.crt/tls.key paths point here.
                { name: 'metrics-tls', mountPath: METRICS_TLS_DIR, readOnly: true },
              ],
              livenessProbe: probe(props.livenessPath ?? '/health/live', 30, 30),
              readinessProbe: probe(props.readinessPath ?? '/health/ready', 10, 10),
            }],
            volumes: [
              { name: 'bpffs', hostPath: { path: BPFFS_PATH, type: 'DirectoryOrCreate' } },
              { name: 'tmp', emptyDir: {} },
              { name: 'cgroup', hostPath: { path: '/sys/fs/cgroup', type: 'Directory' } },
              { name: 'cost-destinations', configMap: { name: expr(DESTINATIONS_NAME) } },
              { name: 'metrics-tls', secret: { secretName: expr(`required "metricsAuth.tlsSecretName is required when config.metricsAuth is kubernetes: name a kubernetes.io/tls Secret with tls.crt and tls.key" ${V.metricsAuth.tlsSecretName.$ref} | quote`) } },
            ],
          },
        },
      },
    });
    const pod = 'spec.template.spec';
    const agent = `${pod}.containers.0`;
    const preflight = `${pod}.initContainers.0`;
    const containerFields = (path: string, userLists: boolean) => ({
      [`${path}.env`]: agentEnv(userLists),
      [`${path}.resources`]: block(`toYaml ${V.resources.$ref}`),
      [`${path}.securityContext.capabilities.add`]: block(include('capabilities')),
      [`${path}.securityContext.seccompProfile`]: block(`toYaml ${sc.seccompProfile.$ref}`),
    });
    chart.set(this.daemonSet, {
      'metadata.labels': block(include('labels')),
      'spec.selector.matchLabels': block(include('selectorLabels')),
      'spec.updateStrategy': block(include('updateStrategy')),
      'spec.template.metadata.labels': block(labelsWith(V.podLabels.$ref)),
      'spec.template.metadata.annotations': withValue(include('podAnnotations'), '.'),
      [`${pod}.imagePullSecrets`]: withValue(V.imagePullSecrets.$ref),
      [`${pod}.nodeSelector`]: withValue(V.nodeSelector.$ref),
      [`${pod}.affinity`]: withValue(V.affinity.$ref),
      [`${pod}.tolerations`]: withValue(V.tolerations.$ref),
      [`${pod}.topologySpreadConstraints`]: withValue(V.topologySpreadConstraints.$ref),
      ...containerFields(agent, true),
      ...containerFields(preflight, false),
      [`${agent}.volumeMounts.5`]: appendList(V.extraVolumeMounts.$ref),
      [`${pod}.volumes.5`]: appendList(V.extraVolumes.$ref),
    });
    // The destinations file exists only when costDestinations is set.
    chart.itemIf(this.daemonSet, `${agent}.volumeMounts.name=cost-destinations`, V.costDestinations.$ref);
    chart.itemIf(this.daemonSet, `${pod}.volumes.name=cost-destinations`, V.costDestinations.$ref);
    chart.itemIf(this.daemonSet, `${agent}.volumeMounts.name=metrics-tls`, KUBERNETES_AUTH);
    chart.itemIf(this.daemonSet, `${pod}.volumes.name=metrics-tls`, KUBERNETES_AUTH);
    for (const p of ['livenessProbe', 'readinessProbe']) chart.keyIf(this.daemonSet, `${agent}.${p}.httpGet.scheme`, KUBERNETES_AUTH);
    chart.keyIf(this.daemonSet, `${pod}.priorityClassName`, V.priorityClassName.$ref);
    chart.keyIf(this.daemonSet, `${pod}.initContainers`, V.preflight.enabled.$ref);
    chart.itemIf(this.daemonSet, `${agent}.ports.name=profiling`, config('enableProfiling').$ref);
  }
}
