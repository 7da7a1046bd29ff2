// Points: the calls of the points capability and its query keys. A member's balance and
// totals, ledger entries and purchases (pages by a `before` cursor), adjustments and
// redemptions, and the business's point settings. Pages use these with react-query;
// nothing else calls the client for points.
import { api, call, type Schemas } from '../api/client';

export const pointsKeys = {
  all: ['points'] as const,
  settings: () => [...pointsKeys.all, 'settings'] as const,
  /** Everything shown of one member's points (invalidated after a write). */
  member: (id: string) => [...pointsKeys.all, id] as const,
  summary: (id: string) => [...pointsKeys.member(id), 'summary'] as const,
  entries: (id: string, before: number | undefined) => [...pointsKeys.member(id), 'entries', before] as const,
  purchases: (id: string, before: string | undefined) => [...pointsKeys.member(id), 'purchases', before] as const,
};

export const fetchPointsSummary = (memberId: string) =>
  call(api.GET('/members/{id}/points', { params: { path: { id: memberId } } }));

export const fetchPointEntries = (memberId: string, query: { limit: number; before: number | undefined }) =>
  call(api.GET('/members/{id}/points/entries', { params: { path: { id: memberId }, query } }));

export const fetchPurchases = (memberId: string, query: { limit: number; before: string | undefined }) =>
  call(api.GET('/members/{id}/purchases', { params: { path: { id: memberId }, query } }));

export const adjustPoints = (memberId: string, body: Schemas['NewAdjustment']) =>
  call(api.POST('/members/{id}/points/adjustments', { params: { path: { id: memberId } }, body }));

export const redeemPoints = (memberId: string, body: Schemas['NewRedemption']) =>
  call(api.POST('/members/{id}/redemptions', { params: { path: { id: memberId } }, body }));

export const fetchPointSettings = () => call(api.GET('/points/settings'));

export const savePointSettings = (settings: Schemas['PointSettingsView']) =>
  call(api.PUT('/points/settings', { body: settings }));
