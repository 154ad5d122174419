{{/*
The four services, in the order every ranged template renders them.
*/}}
{{- define "payments.components" -}}
generator ingest processor query
{{- end }}

{{/*
Chart name, truncated to the 63 characters a DNS label allows.
*/}}
{{- define "payments.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name: the release name, prefixed to the chart name unless it already contains it.
Kept to 52 characters so "<fullname>-<component>" stays a valid DNS label.
*/}}
{{- define "payments.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "payments.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Name of one component's objects: "<fullname>-<component>". Call with (dict "root" $ "component" "ingest").
*/}}
{{- define "payments.componentName" -}}
{{- printf "%s-%s" (include "payments.fullname" .root) .component }}
{{- end }}

{{/*
Selector labels: release-wide, plus the component when given.
Call with (dict "root" $) or (dict "root" $ "component" "ingest").
*/}}
{{- define "payments.selectorLabels" -}}
app.kubernetes.io/name: {{ include "payments.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- end }}

{{/*
Common labels. Same arguments as payments.selectorLabels.
*/}}
{{- define "payments.labels" -}}
helm.sh/chart: {{ include "payments.chart" .root }}
{{ include "payments.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: payments
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
A component's image: its own repository, else "<image.repository>-<component>"; its own tag,
else image.tag, else the chart's appVersion.
*/}}
{{- define "payments.image" -}}
{{- $values := index .root.Values .component }}
{{- $repository := $values.image.repository | default (printf "%s-%s" .root.Values.image.repository .component) }}
{{- $tag := $values.image.tag | default .root.Values.image.tag | default .root.Chart.AppVersion }}
{{- printf "%s:%s" $repository $tag }}
{{- end }}

{{/*
The Secret holding the backend URLs.
*/}}
{{- define "payments.backendsSecretName" -}}
{{- if .Values.backends.create }}
{{- printf "%s-backends" (include "payments.fullname" .) }}
{{- else }}
{{- required "backends.existingSecret is required when backends.create is false" .Values.backends.existingSecret }}
{{- end }}
{{- end }}

{{/*
The Secret holding the bearer tokens file.
*/}}
{{- define "payments.authSecretName" -}}
{{- .Values.auth.existingSecret | default (printf "%s-auth" (include "payments.fullname" .)) }}
{{- end }}

{{/*
The Secret holding the TLS certificate.
*/}}
{{- define "payments.tlsSecretName" -}}
{{- required "tls.existingSecret is required when tls.enabled is true" .Values.tls.existingSecret }}
{{- end }}

{{/*
The ServiceAccount shared by ingest, processor and query.
*/}}
{{- define "payments.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "payments.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Whether the generator runs the PaymentTraffic controller ("true" or "").
*/}}
{{- define "payments.trafficController" -}}
{{- if and .Values.generator.enabled .Values.generator.trafficController.enabled }}true{{ end }}
{{- end }}

{{/*
The ServiceAccount a component's pods run as: the generator's own when it runs the controller.
Call with (dict "root" $ "component" "generator").
*/}}
{{- define "payments.podServiceAccountName" -}}
{{- if and (eq .component "generator") (include "payments.trafficController" .root) }}
{{- include "payments.componentName" . }}
{{- else }}
{{- include "payments.serviceAccountName" .root }}
{{- end }}
{{- end }}

{{/*
The /metrics URLs of this release's generator, ingest and processor, comma-separated, for the
query service's console.
*/}}
{{- define "payments.consoleMetricsFrom" -}}
{{- $urls := list }}
{{- range $component := list "generator" "ingest" "processor" }}
{{- $values := index $.Values $component }}
{{- if $values.enabled }}
{{- $urls = append $urls (printf "http://%s-pods.%s.svc:%d/metrics" (include "payments.componentName" (dict "root" $ "component" $component)) $.Release.Namespace (int $values.httpPort)) }}
{{- end }}
{{- end }}
{{- join "," $urls }}
{{- end }}

{{/*
In-cluster gRPC address of this release's ingest: "<fullname>-ingest.<namespace>.svc:<port>".
*/}}
{{- define "payments.ingestAddress" -}}
{{- printf "%s.%s.svc:%d" (include "payments.componentName" (dict "root" . "component" "ingest")) .Release.Namespace (int .Values.ingest.grpcPort) }}
{{- end }}

{{/*
Seconds the kubelet waits between the preStop hook's start and SIGKILL: the preStop sleep,
then the drain the binaries bound by PAYMENTS_SHUTDOWN_GRACE, then a margin.
*/}}
{{- define "payments.terminationGracePeriodSeconds" -}}
{{- add .Values.shutdown.graceSeconds .Values.shutdown.preStopSleepSeconds .Values.shutdown.marginSeconds }}
{{- end }}

{{/*
Mount paths of the optional Secrets.
*/}}
{{- define "payments.authDir" -}}/etc/payments/auth{{- end }}
{{- define "payments.tlsDir" -}}/etc/payments/tls{{- end }}

{{/*
A secretKeyRef env var. Call with (dict "name" "PAYMENTS_BUS" "secret" $name "key" "bus" "optional" false).
*/}}
{{- define "payments.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .secret }}
      key: {{ .key }}
      {{- if .optional }}
      optional: true
      {{- end }}
{{- end }}

{{/*
Environment of one component's container. Every name is a flag's env var (see
`payments-<component> --help`) or one the telemetry code reads (RUST_LOG, LOG_FORMAT, OTEL_*).
Call with (dict "root" $ "component" "ingest").
*/}}
{{- define "payments.env" -}}
{{- $root := .root }}
{{- $component := .component }}
{{- $values := index $root.Values $component }}
{{- $backends := include "payments.backendsSecretName" $root }}
{{- $needsAuthFile := and $root.Values.auth.enabled (has $component (list "generator" "ingest" "query")) }}
- name: PAYMENTS_GRPC_ADDR
  value: {{ printf "%s:%d" $root.Values.bindAddress (int $values.grpcPort) | quote }}
- name: PAYMENTS_HTTP_ADDR
  value: {{ printf "%s:%d" $root.Values.bindAddress (int $values.httpPort) | quote }}
- name: PAYMENTS_SHUTDOWN_GRACE
  value: {{ $root.Values.shutdown.graceSeconds | quote }}
- name: RUST_LOG
  value: {{ $root.Values.logging.level | quote }}
- name: LOG_FORMAT
  value: {{ $root.Values.logging.format | quote }}
{{- if $root.Values.tracing.enabled }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ required "tracing.otlpEndpoint is required when tracing.enabled is true" $root.Values.tracing.otlpEndpoint | quote }}
- name: OTEL_SERVICE_NAME
  value: {{ printf "payments-%s" $component | quote }}
{{- $attributes := list (printf "service.namespace=%s" (include "payments.fullname" $root)) (printf "k8s.namespace.name=%s" $root.Release.Namespace) }}
{{- range $key, $value := $root.Values.tracing.resourceAttributes }}
{{- $attributes = append $attributes (printf "%s=%s" $key $value) }}
{{- end }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ join "," $attributes | quote }}
{{- end }}
{{- if $root.Values.tls.enabled }}
- name: PAYMENTS_TLS_CERT
  value: {{ printf "%s/tls.crt" (include "payments.tlsDir" $root) | quote }}
- name: PAYMENTS_TLS_KEY
  value: {{ printf "%s/tls.key" (include "payments.tlsDir" $root) | quote }}
{{- if $root.Values.tls.clientAuth }}
- name: PAYMENTS_TLS_CLIENT_CA
  value: {{ printf "%s/ca.crt" (include "payments.tlsDir" $root) | quote }}
{{- end }}
{{- end }}
{{- if $needsAuthFile }}
- name: PAYMENTS_AUTH_TOKENS_FILE
  value: {{ printf "%s/tokens" (include "payments.authDir" $root) | quote }}
{{- end }}
{{- if eq $component "generator" }}
- name: PAYMENTS_CUSTOMERS
  value: {{ $values.config.customers | quote }}
{{- $allowed := $values.config.allowIngestTargets }}
{{- if $root.Values.ingest.enabled }}
{{- $allowed = prepend $allowed (include "payments.ingestAddress" $root) }}
{{- end }}
{{- if $allowed }}
- name: PAYMENTS_ALLOW_INGEST_TARGETS
  value: {{ join "," $allowed | quote }}
{{- end }}
{{- if $values.config.publishToBus }}
{{ include "payments.secretEnv" (dict "name" "PAYMENTS_BUS" "secret" $backends "key" "bus") }}
- name: PAYMENTS_TOPIC
  value: {{ $values.config.topic | quote }}
- name: PAYMENTS_KEY
  value: {{ $values.config.key | quote }}
{{- end }}
{{- if include "payments.trafficController" $root }}
- name: PAYMENTS_WATCH_PAYMENT_TRAFFIC
  value: "true"
- name: PAYMENTS_TRAFFIC_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: PAYMENTS_TRAFFIC_DEFAULT_TARGET
  {{- if $values.trafficController.defaultTarget }}
  value: {{ $values.trafficController.defaultTarget | quote }}
  {{- else if $root.Values.ingest.enabled }}
  value: {{ include "payments.ingestAddress" $root | quote }}
  {{- else }}
  value: {{ required "generator.trafficController.defaultTarget is required when ingest.enabled is false" "" }}
  {{- end }}
{{- end }}
{{- if $root.Values.auth.enabled }}
{{ include "payments.secretEnv" (dict "name" "PAYMENTS_INGEST_TOKEN" "secret" (include "payments.authSecretName" $root) "key" "generator-token" "optional" true) }}
{{- end }}
{{- if $root.Values.tls.enabled }}
- name: PAYMENTS_INGEST_TLS_CA
  value: {{ printf "%s/ca.crt" (include "payments.tlsDir" $root) | quote }}
{{- if $root.Values.tls.clientAuth }}
- name: PAYMENTS_INGEST_TLS_CERT
  value: {{ printf "%s/tls.crt" (include "payments.tlsDir" $root) | quote }}
- name: PAYMENTS_INGEST_TLS_KEY
  value: {{ printf "%s/tls.key" (include "payments.tlsDir" $root) | quote }}
{{- end }}
{{- end }}
{{- else if eq $component "ingest" }}
{{ include "payments.secretEnv" (dict "name" "PAYMENTS_BUS" "secret" $backends "key" "bus") }}
- name: PAYMENTS_TOPIC
  value: {{ $values.config.topic | quote }}
- name: PAYMENTS_KEY
  value: {{ $values.config.key | quote }}
- name: PAYMENTS_MAX_CONCURRENT_CALLS
  value: {{ $values.config.maxConcurrentCalls | quote }}
{{- else if eq $component "processor" }}
{{ include "payments.secretEnv" (dict "name" "PAYMENTS_BUS" "secret" $backends "key" "bus") }}
{{ include "payments.secretEnv" (dict "name" "PAYMENTS_SINKS" "secret" $backends "key" "sinks") }}
- name: PAYMENTS_TOPIC
  value: {{ $values.config.topic | quote }}
- name: PAYMENTS_DEAD_LETTER_TOPIC
  value: {{ $values.config.deadLetterTopic | quote }}
- name: PAYMENTS_GROUP
  value: {{ $values.config.group | quote }}
- name: PAYMENTS_BATCH_SIZE
  value: {{ $values.config.batchSize | quote }}
- name: PAYMENTS_MAX_BATCH_SIZE
  value: {{ $values.config.maxBatchSize | quote }}
- name: PAYMENTS_LINGER_MS
  value: {{ $values.config.lingerMs | quote }}
- name: PAYMENTS_VALIDATION
  value: {{ $values.config.validation | quote }}
{{- if $values.config.staticMembership }}
- name: PAYMENTS_INSTANCE_ID
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- end }}
{{- else if eq $component "query" }}
{{ include "payments.secretEnv" (dict "name" "PAYMENTS_STORE" "secret" $backends "key" "store") }}
{{ include "payments.secretEnv" (dict "name" "PAYMENTS_CACHE" "secret" $backends "key" "cache" "optional" true) }}
{{- if $values.config.revealAccounts }}
- name: PAYMENTS_REVEAL_ACCOUNTS
  value: "true"
{{- end }}
{{- if $values.console.enabled }}
- name: PAYMENTS_CONSOLE_METRICS_FROM
  value: {{ include "payments.consoleMetricsFrom" $root | quote }}
{{- if $values.console.deadLetters }}
{{ include "payments.secretEnv" (dict "name" "PAYMENTS_CONSOLE_BUS" "secret" $backends "key" "bus") }}
- name: PAYMENTS_CONSOLE_DEAD_LETTER_TOPIC
  value: {{ $root.Values.processor.config.deadLetterTopic | quote }}
{{- end }}
{{- /* The console reaches the generator in plaintext: not with TLS on. */}}
{{- if and $values.console.runs $root.Values.generator.enabled (not $root.Values.tls.enabled) }}
- name: PAYMENTS_CONSOLE_GENERATOR
  value: {{ printf "%s.%s.svc:%d" (include "payments.componentName" (dict "root" $root "component" "generator")) $root.Release.Namespace (int $root.Values.generator.grpcPort) | quote }}
{{- if $root.Values.ingest.enabled }}
- name: PAYMENTS_CONSOLE_INGEST_TARGET
  value: {{ include "payments.ingestAddress" $root | quote }}
{{- end }}
{{- if $root.Values.auth.enabled }}
{{ include "payments.secretEnv" (dict "name" "PAYMENTS_CONSOLE_GENERATOR_TOKEN" "secret" (include "payments.authSecretName" $root) "key" "generator-token" "optional" true) }}
{{- end }}
{{- end }}
{{- with $values.console.traceLink }}
- name: PAYMENTS_TRACE_LINK
  value: {{ . | quote }}
{{- end }}
{{- if $values.console.despiteAuth }}
- name: PAYMENTS_CONSOLE_DESPITE_AUTH
  value: "true"
{{- end }}
{{- else }}
- name: PAYMENTS_NO_CONSOLE
  value: "true"
{{- end }}
{{- end }}
{{- with $values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Probes of one component's container: native gRPC probes (grpc.health.v1, overall status "")
on its gRPC port; with TLS on, HTTP probes of /livez and /readyz, since the kubelet's gRPC
probe speaks plaintext only. Call with (dict "root" $ "component" "ingest").
*/}}
{{- define "payments.probes" -}}
{{- $root := .root }}
{{- $values := index $root.Values .component }}
{{- range $kind := list "startup" "readiness" "liveness" }}
{{- $probe := index $root.Values.probes $kind }}
{{ $kind }}Probe:
  {{- if $root.Values.tls.enabled }}
  httpGet:
    path: {{ ternary "/readyz" "/livez" (eq $kind "readiness") }}
    port: http
    {{- if eq $.component "query" }}
    {{- /* The query service's HTTP port serves payments, so it speaks TLS with gRPC. */}}
    scheme: HTTPS
    {{- end }}
  {{- else }}
  grpc:
    port: {{ $values.grpcPort }}
  {{- end }}
  periodSeconds: {{ $probe.periodSeconds }}
  timeoutSeconds: {{ $probe.timeoutSeconds }}
  failureThreshold: {{ $probe.failureThreshold }}
{{- end }}
{{- end }}
