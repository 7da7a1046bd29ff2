// The front desk: the calls of the desk capability and its query keys. The one-box lookup,
// a member's summary, and what a clerk records from the desk (purchases, refunds,
// check-ins, the SMS code that confirms a large redemption), and the items a purchase's
// lines are picked from. Redemptions themselves go through the points capability's call.
import { api, call, type Schemas } from '../api/client';

export type DeskMatch = Schemas['DeskMatch'];
export type MemberSummary = Schemas['MemberSummary'];
export type DeskItem = Schemas['DeskItem'];
export type DeskItems = Schemas['DeskItems'];

export const deskKeys = {
  all: ['desk'] as const,
  lookup: (q: string) => [...deskKeys.all, 'lookup', q] as const,
  /** A member's summary (invalidated after anything is recorded for them). */
  summary: (id: string) => [...deskKeys.all, 'summary', id] as const,
  /** The business's recent items matching a text, and its categories (for item lines). */
  items: (q: string) => [...deskKeys.all, 'items', q] as const,
};

export const deskLookup = (q: string) => call(api.GET('/desk/lookup', { params: { query: { q } } }));

export const fetchMemberSummary = (id: string) =>
  call(api.GET('/members/{id}/summary', { params: { path: { id } } }));

export const recordPurchase = (body: Schemas['NewPurchase']) => call(api.POST('/purchases', { body }));

export const recordRefund = (body: Schemas['NewRefund']) => call(api.POST('/refunds', { body }));

export const checkIn = (id: string) => call(api.POST('/members/{id}/check-ins', { params: { path: { id } } }));

export const sendRedemptionCode = (id: string) =>
  call(api.POST('/members/{id}/redemption-code', { params: { path: { id } } }));

/**
 * The business's recent items whose name or SKU contains `q` (newest first, with the latest
 * price) and every category it uses.
 */
export const fetchDeskItems = (q: string, limit = 20) =>
  call(api.GET('/desk/items', { params: { query: { q, limit } } }));
