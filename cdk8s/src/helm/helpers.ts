// templates/_helpers.tpl: the named templates every resource shares. Written as
// data here so the chart has no hand-edited template file; each helper says why
// it exists.
import { PRIVILEGED_EXTRA_CAPABILITY } from '../security.js';
import { CHART_NAME } from '../chart-info.js';

interface Helper {
  readonly name: string;
  readonly why: string;
  readonly body: string;
}

const h = (name: string, why: string, body: string): Helper => ({ name: `${CHART_NAME}.${name}`, why, body });

export const HELPERS: readonly Helper[] = [
  h('name', 'Chart name, or nameOverride. Kubernetes names are DNS labels: at most 63 characters, no trailing "-" after truncation.',
    `{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}`),
  h('fullname', 'Resource name: fullnameOverride, else the release name when it already contains the chart name\n(release kubeadapt-ebpf-agent gives kubeadapt-ebpf-agent, matching the published scrape configs),\nelse <release>-<chart>.',
    `{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}`),
  h('chart', 'Chart name and version for the helm.sh/chart label ("+" is not allowed in label values).',
    `{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}`),
  h('selectorLabels', 'Labels that select the agent pods; immutable in a DaemonSet selector, so never add to them.',
    `app.kubernetes.io/name: {{ include "${CHART_NAME}.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}`),
  h('labels', 'Labels on every resource.',
    `helm.sh/chart: {{ include "${CHART_NAME}.chart" . }}
{{ include "${CHART_NAME}.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: agent`),
  h('serviceAccountName', 'ServiceAccount the pods run as.',
    `{{- if .Values.serviceAccount.create }}
{{- default (include "${CHART_NAME}.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}`),
  h('image', 'Image reference; the tag defaults to the chart appVersion so a chart release pins its agent.',
    `{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}`),
  h('capabilities', `Capabilities the agent adds after dropping ALL. Privileged mode (kernels without CAP_BPF) adds ${PRIVILEGED_EXTRA_CAPABILITY}.`,
    `{{- $caps := .Values.securityContext.capabilities }}
{{- if .Values.securityContext.privileged }}
{{- $caps = append $caps "${PRIVILEGED_EXTRA_CAPABILITY}" | uniq }}
{{- end }}
{{- toYaml $caps }}`),
  h('updateStrategy', 'Update strategy. Helm merges user values into the defaults, so a user switching to OnDelete\nwould keep the default rollingUpdate block, which the API rejects: drop it for OnDelete.',
    `{{- $s := .Values.updateStrategy }}
{{- if eq $s.type "OnDelete" }}
{{- toYaml (omit $s "rollingUpdate") }}
{{- else }}
{{- toYaml $s }}
{{- end }}`),
  h('prometheusAnnotations', 'prometheus.io annotations for annotation-based scrape jobs; scheme https when config.metricsAuth is kubernetes.',
    `prometheus.io/scrape: "true"
prometheus.io/port: {{ .Values.config.metricsPort | quote }}
prometheus.io/path: /metrics
{{- if eq .Values.config.metricsAuth "kubernetes" }}
prometheus.io/scheme: https
{{- end }}`),
  h('podAnnotations', 'Pod annotations: the scrape annotations when enabled, then podAnnotations.',
    `{{- $a := dict }}
{{- if .Values.prometheusAnnotations.pod }}
{{- $a = include "${CHART_NAME}.prometheusAnnotations" . | fromYaml }}
{{- end }}
{{- $a = mergeOverwrite $a .Values.podAnnotations }}
{{- if $a }}{{ toYaml $a }}{{ end }}`),
  h('serviceAnnotations', 'Service annotations: the scrape annotations when enabled, then service.annotations.',
    `{{- $a := dict }}
{{- if .Values.prometheusAnnotations.service }}
{{- $a = include "${CHART_NAME}.prometheusAnnotations" . | fromYaml }}
{{- end }}
{{- $a = mergeOverwrite $a .Values.service.annotations }}
{{- if $a }}{{ toYaml $a }}{{ end }}`),
  h('labelsWith', 'The common labels plus extra ones (the second item of the list); the common ones win.',
    `{{- $ctx := index . 0 }}
{{- $labels := mergeOverwrite (deepCopy (index . 1)) (include "${CHART_NAME}.labels" $ctx | fromYaml) }}
{{- toYaml $labels }}`),
];

export function helpersTpl(): string {
  return HELPERS.map((x) => {
    const why = x.why.split('\n').map((l) => `{{/* ${l} */}}`).join('\n');
    return `${why}\n{{- define "${x.name}" -}}\n${x.body}\n{{- end }}\n`;
  }).join('\n');
}
