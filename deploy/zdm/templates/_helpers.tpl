{{/* Name of every object of this release: <release>-zdm, or the release name when it contains "zdm". */}}
{{- define "zdm.fullname" -}}
{{- if contains "zdm" .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-zdm" .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "zdm.labels" -}}
app.kubernetes.io/name: zdm
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "zdm.proxySelector" -}}
app.kubernetes.io/name: zdm
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: proxy
{{- end -}}

{{- define "zdm.image" -}}
{{ printf "%s:%s" .Values.image.repository .Values.image.tag | quote }}
{{- end -}}

{{/* ZDM_<KEY>: <value> for each entry of a settings map; lists comma-separated. */}}
{{- define "zdm.settingsEnv" -}}
{{- range $key, $value := . }}
{{- include "zdm.refuseSecret" $key }}
{{ printf "ZDM_%s" (upper $key) }}: {{ include "zdm.settingValue" $value }}
{{- end }}
{{- end -}}

{{/* The same as a container's env list. */}}
{{- define "zdm.settingsEnvList" -}}
{{- range $key, $value := . }}
{{- include "zdm.refuseSecret" $key }}
- name: {{ printf "ZDM_%s" (upper $key) }}
  value: {{ include "zdm.settingValue" $value }}
{{- end }}
{{- end -}}

{{- define "zdm.settingValue" -}}
{{- if kindIs "slice" . }}{{ join "," . | quote }}{{ else }}{{ . | toString | quote }}{{ end }}
{{- end -}}

{{/* Values end up in plain ConfigMaps and pod specs: credentials and keys belong in a Secret. */}}
{{- define "zdm.refuseSecret" -}}
{{- if regexMatch "(?i)(password|username)" . }}
{{- fail (printf "%s cannot be a value: put credentials in the Secret named by credentials.existingSecret" .) }}
{{- end }}
{{- end -}}

{{/* The cluster credentials, each from the operator's Secret; absent keys stay unset. */}}
{{- define "zdm.credentialsEnv" -}}
{{- with .Values.credentials }}
{{- if .existingSecret }}
{{- range $env, $key := dict "ZDM_ORIGIN_USERNAME" .originUsernameKey "ZDM_ORIGIN_PASSWORD" .originPasswordKey "ZDM_TARGET_USERNAME" .targetUsernameKey "ZDM_TARGET_PASSWORD" .targetPasswordKey }}
- name: {{ $env }}
  valueFrom:
    secretKeyRef:
      name: {{ $.Values.credentials.existingSecret }}
      key: {{ $key }}
      optional: true
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "zdm.requireClusters" -}}
{{- if or (empty .Values.origin.contactPoints) (empty .Values.target.contactPoints) -}}
{{- fail "set origin.contactPoints and target.contactPoints (lists of Cassandra hosts), e.g. --set origin.contactPoints={10.0.0.1},target.contactPoints={10.0.1.1}" -}}
{{- end -}}
{{- end -}}
