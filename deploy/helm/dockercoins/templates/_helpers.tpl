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
