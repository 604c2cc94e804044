{{/*
Names, labels and the pieces several templates share. Every computed value (the Redis URL, the
grace period, the RBAC rules of the watched kinds) is defined here once.
*/}}

{{/* Chart name, overridable. */}}
{{- define "kubecast.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Fully qualified release name: <release>-kubecast, or just <release> when it already says kubecast. */}}
{{- define "kubecast.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Name of one component's objects: <fullname>-<component>, within 63 characters. */}}
{{- define "kubecast.componentName" -}}
{{- $full := include "kubecast.fullname" .root | trunc (int (sub 62 (len .component))) | trimSuffix "-" -}}
{{- printf "%s-%s" $full .component -}}
{{- end -}}

{{- define "kubecast.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels every object carries. */}}
{{- define "kubecast.labels" -}}
helm.sh/chart: {{ include "kubecast.chart" . }}
app.kubernetes.io/name: {{ include "kubecast.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kubecast
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one component ({root, component}); never change them on upgrade. */}}
{{- define "kubecast.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kubecast.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* All labels of one component's objects ({root, component}). */}}
{{- define "kubecast.componentLabels" -}}
{{ include "kubecast.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Image reference of {image, root}: the tag defaults to the chart's appVersion; a digest wins. */}}
{{- define "kubecast.image" -}}
{{- if .image.digest -}}
{{- printf "%s@%s" .image.repository .image.digest -}}
{{- else -}}
{{- printf "%s:%s" .image.repository (default .root.Chart.AppVersion .image.tag | toString) -}}
{{- end -}}
{{- end -}}

{{- define "kubecast.producer.serviceAccountName" -}}
{{- if .Values.producer.serviceAccount.create -}}
{{- default (include "kubecast.componentName" (dict "root" . "component" "producer")) .Values.producer.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.producer.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "kubecast.fanout.serviceAccountName" -}}
{{- if .Values.fanout.serviceAccount.create -}}
{{- default (include "kubecast.componentName" (dict "root" . "component" "fanout")) .Values.fanout.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.fanout.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Lease the producers elect a leader on (lives in the release namespace). */}}
{{- define "kubecast.leaseName" -}}
{{- default (include "kubecast.componentName" (dict "root" . "component" "producer")) .Values.producer.leaderElection.leaseName -}}
{{- end -}}

{{/*
The built-in kinds of the producer (producer/src/kinds.rs) with their API group and resource.
`default` marks the kinds watched when producer.kinds is empty (every kind but Endpoints).
*/}}
{{- define "kubecast.kindTable" -}}
Namespace: {group: "", resource: namespaces, default: true}
Node: {group: "", resource: nodes, default: true}
Deployment: {group: apps, resource: deployments, default: true}
StatefulSet: {group: apps, resource: statefulsets, default: true}
DaemonSet: {group: apps, resource: daemonsets, default: true}
CronJob: {group: batch, resource: cronjobs, default: true}
Job: {group: batch, resource: jobs, default: true}
ReplicaSet: {group: apps, resource: replicasets, default: true}
Pod: {group: "", resource: pods, default: true}
Service: {group: "", resource: services, default: true}
EndpointSlice: {group: discovery.k8s.io, resource: endpointslices, default: true}
Endpoints: {group: "", resource: endpoints, default: false}
{{- end -}}

{{/* The kinds the producer watches: producer.kinds, or the default ones; as a YAML list. */}}
{{- define "kubecast.watchedKinds" -}}
{{- $table := include "kubecast.kindTable" . | fromYaml -}}
{{- $kinds := list -}}
{{- if .Values.producer.kinds -}}
{{- range .Values.producer.kinds -}}
{{- if not (hasKey $table .) -}}
{{- fail (printf "producer.kinds: unknown kind %q (known: %s)" . (keys $table | sortAlpha | join ", ")) -}}
{{- end -}}
{{- $kinds = append $kinds . -}}
{{- end -}}
{{- else -}}
{{- range $kind, $spec := $table -}}
{{- if $spec.default -}}
{{- $kinds = append $kinds $kind -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toYaml (dict "kinds" $kinds) -}}
{{- end -}}

{{/*
RBAC rules for the watched kinds ({root, scope}): one rule per API group, verbs get/list/watch
only, resources sorted so the render is stable. scope "cluster" lists every watched kind, or
only the cluster-scoped ones (Namespace, Node) when producer.namespaces is set; scope
"namespace" lists the namespaced kinds (for the per-namespace Roles).
*/}}
{{- define "kubecast.producer.watchRules" -}}
{{- $root := .root -}}
{{- $table := include "kubecast.kindTable" $root | fromYaml -}}
{{- $kinds := (include "kubecast.watchedKinds" $root | fromYaml).kinds -}}
{{- $perNamespace := not (empty $root.Values.producer.namespaces) -}}
{{- $byGroup := dict -}}
{{- range $kinds -}}
{{- $spec := get $table . -}}
{{- $clusterScoped := has . (list "Namespace" "Node") -}}
{{- if or (and (eq $.scope "cluster") (or $clusterScoped (not $perNamespace))) (and (eq $.scope "namespace") (not $clusterScoped)) -}}
{{- $_ := set $byGroup $spec.group (append (get $byGroup $spec.group | default list) $spec.resource) -}}
{{- end -}}
{{- end -}}
{{- $rules := list -}}
{{- range $group := keys $byGroup | sortAlpha -}}
{{- $rules = append $rules (dict "apiGroups" (list $group) "resources" (get $byGroup $group | uniq | sortAlpha) "verbs" (list "get" "list" "watch")) -}}
{{- end -}}
{{- if $rules -}}
{{- toYaml $rules -}}
{{- end -}}
{{- end -}}

{{/* Bundled Redis: the Service name. */}}
{{- define "kubecast.redis.fullname" -}}
{{- include "kubecast.componentName" (dict "root" . "component" "redis") -}}
{{- end -}}

{{/* Secret holding the bundled Redis's password, and its key. */}}
{{- define "kubecast.redis.passwordSecret" -}}
{{- default (printf "%s-auth" (include "kubecast.redis.fullname" .)) .Values.redis.auth.existingSecret -}}
{{- end -}}

{{/* Secret holding the external Redis URL, and its key. */}}
{{- define "kubecast.externalRedis.secretName" -}}
{{- default (include "kubecast.componentName" (dict "root" . "component" "redis-url")) .Values.externalRedis.existingSecret -}}
{{- end -}}

{{/*
Checks the Redis choice (exactly one of the bundled Redis and an external URL) and the URL
schemes the binaries' Redis client accepts (redis-rs with TLS, Sentinel and Cluster: see the
chart README).
*/}}
{{- define "kubecast.redis.validate" -}}
{{- $external := or .Values.externalRedis.url .Values.externalRedis.existingSecret -}}
{{- if and .Values.redis.enabled $external -}}
{{- fail "choose one Redis: either redis.enabled (the bundled Redis) or externalRedis.url / externalRedis.existingSecret, not both" -}}
{{- end -}}
{{- if and (not .Values.redis.enabled) (not $external) -}}
{{- fail "no Redis configured: set redis.enabled=true (bundled) or externalRedis.url / externalRedis.existingSecret" -}}
{{- end -}}
{{- if and .Values.externalRedis.url .Values.externalRedis.existingSecret -}}
{{- fail "set externalRedis.url or externalRedis.existingSecret, not both" -}}
{{- end -}}
{{- with .Values.externalRedis.url -}}
{{- if not (regexMatch "^(redis|valkey)s?://[^/]|^(unix|redis\\+unix|valkey\\+unix):///|^rediss?\\+(sentinel|cluster)://[^/,]" .) -}}
{{- fail (printf "externalRedis.url %q is not supported: the Kubecast binaries accept redis://, rediss:// (TLS), valkey://, unix://, redis+sentinel:// / rediss+sentinel:// and redis+cluster:// / rediss+cluster:// URLs (see the chart README, Redis)" .) -}}
{{- end -}}
{{- if and (regexMatch "^rediss?\\+sentinel://" .) (not (regexMatch "^rediss?\\+sentinel://[^/]+/[^/#]+(/[0-9]+)?/?(#insecure)?$" .)) -}}
{{- fail (printf "externalRedis.url %q: a Sentinel URL is redis+sentinel://host:port[,host:port…]/<master-name>[/<db>]" .) -}}
{{- end -}}
{{- if and (regexMatch "^rediss?\\+cluster://" .) (not (regexMatch "^rediss?\\+cluster://[^/#]+(/0?)?(#insecure)?$" .)) -}}
{{- fail (printf "externalRedis.url %q: a Cluster URL is redis+cluster://host:port[,host:port…] (a Redis Cluster has only db 0)" .) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The REDIS_URL environment of the producer and fanout containers. For the bundled Redis with a
password, the password comes from its Secret and Kubernetes expands $(KUBECAST_REDIS_PASSWORD)
inside REDIS_URL (it must be URL-safe; the generated one is alphanumeric).
*/}}
{{- define "kubecast.redis.env" -}}
{{- if .Values.redis.enabled -}}
{{- $host := printf "%s.%s.svc" (include "kubecast.redis.fullname" .) .Release.Namespace -}}
{{- if .Values.redis.auth.enabled -}}
- name: KUBECAST_REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "kubecast.redis.passwordSecret" . }}
      key: {{ .Values.redis.auth.existingSecretKey }}
- name: REDIS_URL
  value: {{ printf "redis://:$(KUBECAST_REDIS_PASSWORD)@%s:%d/0" $host (int .Values.redis.service.port) | quote }}
{{- else -}}
- name: REDIS_URL
  value: {{ printf "redis://%s:%d/0" $host (int .Values.redis.service.port) | quote }}
{{- end -}}
{{- else -}}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "kubecast.externalRedis.secretName" . }}
      key: {{ .Values.externalRedis.existingSecretKey }}
{{- if .Values.externalRedis.tls.caSecret }}
# rustls reads its roots from this file instead of the system's (rediss:// with a private CA).
- name: SSL_CERT_FILE
  value: /etc/kubecast/redis-ca/{{ .Values.externalRedis.tls.caSecretKey }}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The private CA of an external rediss:// Redis: its volumeMount and volume (empty without one).
*/}}
{{- define "kubecast.redis.caMount" -}}
{{- if and (not .Values.redis.enabled) .Values.externalRedis.tls.caSecret -}}
- name: redis-ca
  mountPath: /etc/kubecast/redis-ca
  readOnly: true
{{- end -}}
{{- end -}}

{{- define "kubecast.redis.caVolume" -}}
{{- if and (not .Values.redis.enabled) .Values.externalRedis.tls.caSecret -}}
- name: redis-ca
  secret:
    secretName: {{ .Values.externalRedis.tls.caSecret }}
    items:
      - key: {{ .Values.externalRedis.tls.caSecretKey }}
        path: {{ .Values.externalRedis.tls.caSecretKey }}
    defaultMode: 0444
{{- end -}}
{{- end -}}

{{/* Flags both binaries take from shared/src/config.rs (log group, telemetry, runtime). */}}
{{- define "kubecast.commonArgs" -}}
- --cluster={{ .root.Values.clusterName }}
- --retention-events={{ int64 .root.Values.retentionEvents }}
- --log-format={{ .root.Values.logFormat }}
- --log={{ .root.Values.logLevel }}
{{- with .component.workerThreads }}
- --worker-threads={{ int . }}
{{- end }}
{{- end -}}

{{/* Fanout: seconds the pod waits in preStop before it gets SIGTERM. */}}
{{- define "kubecast.fanout.preStopSeconds" -}}
{{- int .Values.fanout.shutdown.preStopSleepSeconds -}}
{{- end -}}

{{/*
Fanout: terminationGracePeriodSeconds = preStop sleep + drain window + margin. The kubelet's
grace countdown starts before the preStop hook, so the hook's sleep is part of it; after SIGTERM
the replica keeps serving WebSockets for up to the drain window, then waits for the last closing
handshake (≤ 1 s per socket, concurrently), hence the margin.
*/}}
{{- define "kubecast.fanout.terminationGracePeriodSeconds" -}}
{{- $s := .Values.fanout.shutdown -}}
{{- add (int $s.preStopSleepSeconds) (int $s.drainWindowSeconds) (int $s.graceMarginSeconds) -}}
{{- end -}}

{{/* Fanout JWT: the Secret with the HS256 key (created, or existing). */}}
{{- define "kubecast.fanout.jwtSecretName" -}}
{{- $hs := .Values.fanout.auth.hs256 -}}
{{- default (include "kubecast.componentName" (dict "root" . "component" "jwt")) $hs.existingSecret -}}
{{- end -}}

{{/* Fanout JWT: the Secret or ConfigMap with the RS256 public key (created, or existing). */}}
{{- define "kubecast.fanout.jwtPublicKeyName" -}}
{{- $rs := .Values.fanout.auth.rs256 -}}
{{- default (include "kubecast.componentName" (dict "root" . "component" "jwt-public-key")) $rs.existingSecret -}}
{{- end -}}

{{/* Prometheus scrape annotations of a pod ({root, port}). */}}
{{- define "kubecast.scrapeAnnotations" -}}
{{- if .root.Values.metrics.scrapeAnnotations -}}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .port | quote }}
prometheus.io/path: /metrics
{{- end -}}
{{- end -}}

{{/* Soft or hard pod anti-affinity across nodes for {root, component, preset}; an explicit affinity wins. */}}
{{- define "kubecast.affinity" -}}
{{- if .affinity -}}
{{ toYaml .affinity }}
{{- else if eq .preset "soft" -}}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "kubecast.selectorLabels" (dict "root" .root "component" .component) | nindent 12 }}
{{- else if eq .preset "hard" -}}
podAntiAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    - topologyKey: kubernetes.io/hostname
      labelSelector:
        matchLabels:
          {{- include "kubecast.selectorLabels" (dict "root" .root "component" .component) | nindent 10 }}
{{- end -}}
{{- end -}}

{{/* NetworkPolicy egress rule to the cluster DNS (networkPolicy values). */}}
{{- define "kubecast.np.dnsEgress" -}}
# Cluster DNS (the Redis Service name must resolve).
- to:
    - namespaceSelector:
        {{- toYaml .dns.namespaceSelector | nindent 8 }}
      podSelector:
        {{- toYaml .dns.podSelector | nindent 8 }}
  ports:
    - protocol: UDP
      port: 53
    - protocol: TCP
      port: 53
{{- end }}

{{/* NetworkPolicy egress rule to Redis ({root, np}). */}}
{{- define "kubecast.np.redisEgress" -}}
{{- if .root.Values.redis.enabled -}}
# The bundled Redis.
- to:
    - podSelector:
        matchLabels:
          {{- include "kubecast.selectorLabels" (dict "root" .root "component" "redis") | nindent 10 }}
  ports:
    - protocol: TCP
      port: {{ .root.Values.redis.service.port }}
{{- else }}
# The external Redis.
- to:
    {{- range (.np.externalRedis.cidrs | default (list "0.0.0.0/0" "::/0")) }}
    - ipBlock:
        cidr: {{ . }}
    {{- end }}
  ports:
    - protocol: TCP
      port: {{ .np.externalRedis.port }}
{{- end }}
{{- end }}
