// Settings: the calls of the business's settings and audit log, and their query keys.
// Pages use these with react-query; nothing else calls the client for settings.
import { api, call, type Schemas } from '../api/client';

export const settingsKeys = {
  all: ['settings'] as const,
  current: () => [...settingsKeys.all] as const,
  /** The log, or one filtered view of it (a prefix of every view's key). */
  auditLog: (filter?: AuditFilter) => (filter ? (['audit-log', filter] as const) : (['audit-log'] as const)),
};

export const fetchSettings = () => call(api.GET('/settings'));

export const saveSettings = (change: Schemas['SettingsChange']) => call(api.PATCH('/settings', { body: change }));

/** What the audit log is filtered by: who, what, when (ISO times) and which member. */
export interface AuditFilter {
  actor?: string;
  action?: string;
  from?: string;
  to?: string;
  member?: string;
}

/** The audit log, newest first, `limit` entries before the entry `before`, filtered. */
export const fetchAuditLog = (query: { before: number | undefined; limit: number } & AuditFilter) =>
  call(api.GET('/audit-log', { params: { query } }));
