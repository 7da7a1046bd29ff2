// Settings: the calls of the business's settings and audit log, and their query keys.
// Pages use these with react-query; nothing else calls the client for settings.
import { api, call, type Schemas } from '../api/client';

export const settingsKeys = {
  all: ['settings'] as const,
  current: () => [...settingsKeys.all] as const,
  auditLog: () => ['audit-log'] as const,
};

export const fetchSettings = () => call(api.GET('/settings'));

export const saveSettings = (change: Schemas['SettingsChange']) => call(api.PATCH('/settings', { body: change }));

/** The audit log, newest first, `limit` entries before the entry `before`. */
export const fetchAuditLog = (query: { before: number | undefined; limit: number }) =>
  call(api.GET('/audit-log', { params: { query } }));
