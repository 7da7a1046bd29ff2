// Prepaid: the calls of the prepaid capability and its query keys. A member's stored value
// (balance by sub-ledger, top-ups, entries), top-ups with their preview, a member's passes
// and memberships, and the business's pass products and fee standards.
import { api, call, type Schemas } from '../api/client';

export const prepaidKeys = {
  all: ['prepaid'] as const,
  /** Everything shown of one member's prepaid (invalidated after a write). */
  member: (id: string) => [...prepaidKeys.all, 'member', id] as const,
  storedValue: (id: string) => [...prepaidKeys.member(id), 'stored-value'] as const,
  passes: (id: string) => [...prepaidKeys.member(id), 'passes'] as const,
  memberships: (id: string) => [...prepaidKeys.member(id), 'memberships'] as const,
  preview: (id: string, amount: number) => [...prepaidKeys.member(id), 'preview', amount] as const,
};

export const fetchStoredValue = (memberId: string) =>
  call(api.GET('/members/{id}/stored-value', { params: { path: { id: memberId }, query: { limit: 50 } } }));

export const previewTopUp = (memberId: string, amount: number) =>
  call(api.POST('/members/{id}/stored-value/top-ups/preview', { params: { path: { id: memberId } }, body: { amount } }));

export const topUp = (memberId: string, body: Schemas['NewTopUpDoc']) =>
  call(api.POST('/members/{id}/stored-value/top-ups', { params: { path: { id: memberId } }, body }));

export const fetchMemberPasses = (memberId: string) =>
  call(api.GET('/members/{id}/passes', { params: { path: { id: memberId } } }));

export const fetchMemberMemberships = (memberId: string) =>
  call(api.GET('/members/{id}/memberships', { params: { path: { id: memberId } } }));

/** Payment methods staff record (stored value pays purchases only). */
export const METHODS = ['cash', 'card', 'wechat', 'alipay', 'bank_transfer'] as const;
