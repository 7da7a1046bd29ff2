// Notices: the calls of the notices capability and their query keys. Staff write portal
// notices (period, audience, pin) and switch scheduled notices on; members read the notices
// shown to them and their inbox, set their contact preferences and unsubscribe by link.
// Portal calls go through the portal's client (the member's token).
import { api, call, type Schemas } from '../api/client';
import { portalApi } from '../portal/client';

export const noticesKeys = {
  all: ['notices'] as const,
  list: () => [...noticesKeys.all, 'list'] as const,
  scheduled: () => [...noticesKeys.all, 'scheduled'] as const,
  /** The member's inbox in one business (invalidated after a read mark). */
  inbox: (slug: string, token: string | null) => ['portal', slug, 'inbox', token] as const,
  preferences: (slug: string, token: string | null) => ['portal', slug, 'contact-preferences', token] as const,
};

/** The scheduled occasions, in the order the console lists them. */
export const SCHEDULED = ['birthday', 'points.expiring', 'membership.ending', 'pass.ending', 'activity.reminder', 'tier.changed'] as const;

/** Occasions with N days ahead. */
export const WITH_DAYS: readonly string[] = ['points.expiring', 'membership.ending', 'pass.ending'];

export const fetchNotices = () => call(api.GET('/notices'));

export const createNotice = (body: Schemas['NoticeInput']) => call(api.POST('/notices', { body }));

export const updateNotice = (id: string, body: Schemas['NoticeInput']) =>
  call(api.PUT('/notices/{id}', { params: { path: { id } }, body }));

export const deleteNotice = (id: string) => call(api.DELETE('/notices/{id}', { params: { path: { id } } }));

export const fetchScheduled = () => call(api.GET('/notices/scheduled'));

export const setScheduled = (occasion: string, body: Schemas['ScheduledNoticeInput']) =>
  call(api.PUT('/notices/scheduled/{occasion}', { params: { path: { occasion } }, body }));

const at = (slug: string) => ({ path: { tenant: slug } });

export const fetchInbox = (slug: string) => call(portalApi.GET('/portal/{tenant}/inbox', { params: at(slug) }));

export const readNotice = (slug: string, id: string) =>
  call(portalApi.POST('/portal/{tenant}/notices/{id}/read', { params: { path: { tenant: slug, id } } }));

export const readMessage = (slug: string, id: number) =>
  call(portalApi.POST('/portal/{tenant}/inbox/{id}/read', { params: { path: { tenant: slug, id } } }));

export const fetchPreferences = (slug: string) =>
  call(portalApi.GET('/portal/{tenant}/me/contact-preferences', { params: at(slug) }));

export const savePreferences = (slug: string, body: Schemas['ContactPreferencesChange']) =>
  call(portalApi.PUT('/portal/{tenant}/me/contact-preferences', { params: at(slug), body }));

export const unsubscribe = (slug: string, token: string) =>
  call(portalApi.POST('/portal/{tenant}/unsubscribe', { params: at(slug), body: { token } }));
