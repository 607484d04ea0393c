{{- define "dc.name" -}}{{ .root.Values.namePrefix }}{{ .name }}{{- end -}}

{{- define "dc.labels" -}}
app: {{ include "dc.name" . }}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/part-of: dockercoins
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ .root.Chart.Name }}-{{ .root.Chart.Version }}
{{- end -}}

{{- define "dc.selector" -}}
app: {{ include "dc.name" . }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{- define "dc.redisUrl" -}}
{{- if .Values.redis.enabled -}}redis://{{ .Values.namePrefix }}redis:6379{{- else -}}{{ required "redis.url is required when redis.enabled is false" .Values.redis.url }}{{- end -}}
{{- end -}}

{{/* The tenant's name: its key prefix and ACL user. Namespace tenants default to the release namespace. */}}
{{- define "dc.tenant" -}}
{{- $t := .Values.tenant | default (ternary .Release.Namespace "" (or .Values.tenancy.enabled .Values.sharedRedis.enabled)) -}}
{{- if .Values.sharedRedis.enabled -}}
{{- if not (regexMatch "^[a-z][a-z0-9-]{0,62}$" $t) -}}{{ fail (printf "tenant %q: a shared Redis's ACL user name is a lower-case letter, then letters, digits or '-' (at most 63)" $t) }}{{- end -}}
{{- if has $t (list "default" "redis" "admin") -}}{{ fail (printf "tenant %q: a name Redis (or the shared Redis's admin) reserves" $t) }}{{- end -}}
{{- end -}}
{{- if and $t (not .Values.redis.enabled) (not .Values.sharedRedis.enabled) -}}
{{- fail "tenant with a plain redis.url: the same-namespace prefix mode is retired (any tenant could read and overwrite the others' keys). Use a namespace per tenant with sharedRedis (an ACL user per tenant), see docs/kubernetes.md" -}}
{{- end -}}
{{- $t -}}
{{- end -}}

{{- define "dc.redisSecretName" -}}
{{- .Values.sharedRedis.existingSecret | default (printf "%sdockercoins-redis" .Values.namePrefix) -}}
{{- end -}}

{{/* REDIS_URL of a pod: from the tenant's Secret with a shared Redis (never a plain value), else the URL. */}}
{{- define "dc.redisEnv" -}}
{{- if .Values.sharedRedis.enabled -}}
- name: REDIS_URL
  valueFrom:
    secretKeyRef: { name: {{ include "dc.redisSecretName" . }}, key: {{ .Values.sharedRedis.existingSecretKey }} }
{{- else -}}
- { name: REDIS_URL, value: {{ include "dc.redisUrl" . | quote }} }
{{- end -}}
{{- end -}}

{{- define "dc.podSecurity" -}}
{{ toYaml .root.Values.podSecurityContext }}
{{- end -}}

{{- define "dc.containerSecurity" -}}
{{ toYaml .root.Values.securityContext }}
{{- end -}}


{{- define "dc.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}{{ .Values.serviceAccount.name | default (printf "%sdockercoins" .Values.namePrefix) }}{{- else -}}{{ .Values.serviceAccount.name | default "default" }}{{- end -}}
{{- end -}}

{{/* Pod-level settings every pod of the chart shares: identity, pulls, placement, no token, no Service links. */}}
{{- define "dc.podPlacement" -}}
serviceAccountName: {{ include "dc.serviceAccountName" .root }}
automountServiceAccountToken: false
enableServiceLinks: false
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .root.Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .root.Values.nodeSelector }}
nodeSelector: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .root.Values.tolerations }}
tolerations: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .root.Values.affinity }}
affinity: {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* A Job of a tenant release beside the shared Redis (in its namespace, with its admin Secret): sh -c script + args. */}}
{{- define "dc.aclJob" -}}
{{- $root := .root }}
{{- $sr := $root.Values.sharedRedis }}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .name | trunc 63 | trimSuffix "-" }}
  namespace: {{ $sr.namespace }}
  labels: {{- include "dc.labels" (dict "root" $root "name" "redis-acl") | nindent 4 }}
  annotations:
    helm.sh/hook: {{ .hook }}
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  backoffLimit: 10
  activeDeadlineSeconds: 600
  template:
    metadata:
      labels:
        {{- include "dc.labels" (dict "root" $root "name" "redis-acl") | nindent 8 }}
        dockercoins/redis-acl: "true"
    spec:
      restartPolicy: OnFailure
      automountServiceAccountToken: false
      enableServiceLinks: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 999
        runAsGroup: 999
        seccompProfile: { type: RuntimeDefault }
      containers:
        - name: acl
          image: {{ $root.Values.redis.image }}
          env:
            - name: REDISCLI_AUTH
              valueFrom:
                secretKeyRef: { name: {{ $sr.adminSecret }}, key: {{ $sr.adminSecretKey }} }
            - { name: REDIS_HOST, value: {{ $sr.service | quote }} }
            - { name: REDIS_PORT, value: {{ $sr.port | quote }} }
          # redis-cli exits 0 on an error reply, hence the checks of the answers.
          command: {{- toYaml (concat (list "sh" "-c" .script "acl") .args) | nindent 12 }}
          resources: {{- toYaml $root.Values.resources | nindent 12 }}
          securityContext: {{- include "dc.containerSecurity" (dict "root" $root) | nindent 12 }}
{{- end -}}
