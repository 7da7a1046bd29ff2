{{- define "patron.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "patron.fullname" -}}
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

{{- define "patron.selectorLabels" -}}
app.kubernetes.io/name: {{ include "patron.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "patron.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "patron.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: patron
{{- end -}}

{{- define "patron.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "patron.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "patron.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The pod's memory limit: the server plus one address-space limit per sandbox worker. */}}
{{- define "patron.memoryLimit" -}}
{{- if and .Values.resources.limits .Values.resources.limits.memory -}}
{{- .Values.resources.limits.memory -}}
{{- else -}}
{{- printf "%dMi" (add (int .Values.serverMemoryMi) (mul (int .Values.config.sandbox.workers) (int .Values.config.sandbox.memoryMb))) -}}
{{- end -}}
{{- end -}}

{{/* Settings read from the Secret (optional keys may be absent from it). */}}
{{- define "patron.secretEnv" -}}
{{- $s := .Values.secrets -}}
- name: PATRON_DATABASE_URL
  valueFrom:
    secretKeyRef: {name: {{ $s.existingSecret | quote }}, key: {{ $s.keys.databaseUrl | quote }}}
- name: PATRON_PII_KEY
  valueFrom:
    secretKeyRef: {name: {{ $s.existingSecret | quote }}, key: {{ $s.keys.piiKey | quote }}}
- name: PATRON_PII_INDEX_KEY
  valueFrom:
    secretKeyRef: {name: {{ $s.existingSecret | quote }}, key: {{ $s.keys.piiIndexKey | quote }}, optional: true}
- name: PATRON_PII_RETIRED_KEYS
  valueFrom:
    secretKeyRef: {name: {{ $s.existingSecret | quote }}, key: {{ $s.keys.piiRetiredKeys | quote }}, optional: true}
- name: PATRON_PAYMENT_WEBHOOK_SECRET
  valueFrom:
    secretKeyRef: {name: {{ $s.existingSecret | quote }}, key: {{ $s.keys.paymentWebhookSecret | quote }}, optional: true}
- name: PATRON_SMTP_URL
  valueFrom:
    secretKeyRef: {name: {{ $s.existingSecret | quote }}, key: {{ $s.keys.smtpUrl | quote }}, optional: true}
- name: PATRON_SMS_GATEWAY_KEY
  valueFrom:
    secretKeyRef: {name: {{ $s.existingSecret | quote }}, key: {{ $s.keys.smsGatewayKey | quote }}, optional: true}
- name: PATRON_S3_ACCESS_KEY
  valueFrom:
    secretKeyRef: {name: {{ $s.existingSecret | quote }}, key: {{ $s.keys.s3AccessKey | quote }}, optional: true}
- name: PATRON_S3_SECRET_KEY
  valueFrom:
    secretKeyRef: {name: {{ $s.existingSecret | quote }}, key: {{ $s.keys.s3SecretKey | quote }}, optional: true}
{{- end -}}

{{- define "patron.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "patron.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop: ["ALL"]
{{- end -}}
