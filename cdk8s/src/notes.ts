// templates/NOTES.txt: how to reach /metrics after install, from the values
// actually used (port, names, namespace), never hard-coded.
import { config, FULLNAME, V } from './constructs/refs.js';

export function notesTxt(): string {
  const port = config('metricsPort').$ref;
  return `{{- if ${V.enabled.$ref} -}}
The eBPF agent runs as DaemonSet {{ ${FULLNAME} }} in namespace {{ .Release.Namespace }}, one pod per node.

Check that every node runs it:
  kubectl -n {{ .Release.Namespace }} rollout status daemonset/{{ ${FULLNAME} }}
  kubectl -n {{ .Release.Namespace }} get pods -l app.kubernetes.io/name={{ include "ebpf-agent.name" . }} -o wide

Read one node's metrics (port {{ ${port} }} on the node, hostNetwork):
  kubectl -n {{ .Release.Namespace }} port-forward daemonset/{{ ${FULLNAME} }} {{ ${port} }}:{{ ${port} }}
  curl -s http://localhost:{{ ${port} }}/metrics | grep kubeadapt_
{{- if ${V.service.enabled.$ref} }}

In the cluster, every node's endpoint is behind the Service:
  http://{{ ${FULLNAME} }}.{{ .Release.Namespace }}.svc:{{ ${port} }}/metrics
{{- end }}
{{- if and ${V.serviceMonitor.enabled.$ref} ${V.service.enabled.$ref} }}

A ServiceMonitor {{ ${FULLNAME} }} tells the Prometheus Operator to scrape it.
{{- else if ${V.serviceMonitor.enabled.$ref} }}

serviceMonitor.enabled is set but service.enabled is not: no ServiceMonitor was created (it selects the Service).
{{- end }}
{{- if ${V.podMonitor.enabled.$ref} }}

A PodMonitor {{ ${FULLNAME} }} tells the Prometheus Operator to scrape the pods.
{{- end }}
{{- if ${V.securityContext.privileged.$ref} }}

securityContext.privileged is true: the agent runs privileged (meant for kernels older than 5.8 only).
{{- end }}

The namespace must allow hostNetwork and hostPath pods, e.g.:
  kubectl label namespace {{ .Release.Namespace }} pod-security.kubernetes.io/enforce=privileged
{{- else -}}
enabled is false: nothing was deployed. Set enabled=true to run the agent.
{{- end }}
`;
}
