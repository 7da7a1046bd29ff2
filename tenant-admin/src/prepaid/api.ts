// Prepaid: the calls of the prepaid capability and its query keys. A member's stored value
// (balance by sub-ledger, top-ups, entries), top-ups with their preview, a member's passes
// (selling, consuming a visit, reversing one, renewing) and memberships (selling, renewing,
// freezing, cancelling), the business's pass products and fee standards, the prepaid
// settings, memberships ending soon and the charge records (with their CSV).
import { api, call, callBlob, type Schemas } from '../api/client';

export type MembershipPlan = Schemas['MembershipPlan'];
export type PassProduct = Schemas['PassProduct'];
export type Membership = Schemas['MembershipView'];
export type MemberPass = Schemas['MemberPass'];
export type PrepaidSettings = Schemas['PrepaidSettingsDoc'];

/** The filters of the charge records. */
export interface ChargeFilter {
  from?: string;
  to?: string;
  plan_id?: string;
  method?: string;
  staff?: string;
}

export const prepaidKeys = {
  all: ['prepaid'] as const,
  /** Everything shown of one member's prepaid (invalidated after a write). */
  member: (id: string) => [...prepaidKeys.all, 'member', id] as const,
  storedValue: (id: string) => [...prepaidKeys.member(id), 'stored-value'] as const,
  passes: (id: string) => [...prepaidKeys.member(id), 'passes'] as const,
  memberships: (id: string) => [...prepaidKeys.member(id), 'memberships'] as const,
  preview: (id: string, amount: number) => [...prepaidKeys.member(id), 'preview', amount] as const,
  /** What the business sells and has taken (invalidated after a sale or a new standard). */
  business: () => [...prepaidKeys.all, 'business'] as const,
  plans: () => [...prepaidKeys.business(), 'plans'] as const,
  products: () => [...prepaidKeys.business(), 'products'] as const,
  settings: () => [...prepaidKeys.business(), 'settings'] as const,
  ending: (days: number) => [...prepaidKeys.business(), 'ending', days] as const,
  charges: (f: ChargeFilter) => [...prepaidKeys.business(), 'charges', f] as const,
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

export const fetchPlans = () => call(api.GET('/membership-plans'));

export const createPlan = (body: Schemas['NewMembershipPlan']) => call(api.POST('/membership-plans', { body }));
export const setPlanArchived = (id: string, archived: boolean) =>
  call(api.PUT('/membership-plans/{plan_id}/archived', { params: { path: { plan_id: id } }, body: { archived } }));

export const fetchProducts = () => call(api.GET('/pass-products'));

export const createProduct = (body: Schemas['NewPassProduct']) => call(api.POST('/pass-products', { body }));
export const setProductArchived = (id: string, archived: boolean) =>
  call(api.PUT('/pass-products/{product_id}/archived', { params: { path: { product_id: id } }, body: { archived } }));

export const fetchSettings = () => call(api.GET('/prepaid/settings'));

export const saveSettings = (body: PrepaidSettings) => call(api.PUT('/prepaid/settings', { body }));

export const sellMembership = (memberId: string, body: Schemas['NewMembershipSale']) =>
  call(api.POST('/members/{id}/memberships', { params: { path: { id: memberId } }, body }));

type Payment = Schemas['MembershipPayment'];

export const renewMembership = (memberId: string, membershipId: string, body: Payment) =>
  call(
    api.POST('/members/{id}/memberships/{membership_id}/renew', {
      params: { path: { id: memberId, membership_id: membershipId } },
      body,
    }),
  );

export const freezeMembership = (memberId: string, membershipId: string, days: number) =>
  call(
    api.POST('/members/{id}/memberships/{membership_id}/freeze', {
      params: { path: { id: memberId, membership_id: membershipId } },
      body: { days },
    }),
  );

export const cancelMembership = (memberId: string, membershipId: string, body: Payment) =>
  call(
    api.POST('/members/{id}/memberships/{membership_id}/cancel', {
      params: { path: { id: memberId, membership_id: membershipId } },
      body,
    }),
  );

export const sellPass = (memberId: string, body: Schemas['NewPassSale']) =>
  call(api.POST('/members/{id}/passes', { params: { path: { id: memberId } }, body }));

export const consumeVisit = (memberId: string, passId: string, body: Schemas['NewPassUse']) =>
  call(api.POST('/members/{id}/passes/{pass_id}/uses', { params: { path: { id: memberId, pass_id: passId } }, body }));

export const reverseVisit = (memberId: string, passId: string, useId: number, reason: string) =>
  call(
    api.POST('/members/{id}/passes/{pass_id}/uses/{use_id}/reverse', {
      params: { path: { id: memberId, pass_id: passId, use_id: useId } },
      body: { reason },
    }),
  );

export const renewPass = (memberId: string, passId: string, body: Schemas['PassRenewal']) =>
  call(api.POST('/members/{id}/passes/{pass_id}/renew', { params: { path: { id: memberId, pass_id: passId } }, body }));

export const fetchEnding = (days: number) => call(api.GET('/memberships/ending', { params: { query: { days } } }));

const chargeQuery = (f: ChargeFilter) => ({
  from: f.from || undefined,
  to: f.to || undefined,
  plan_id: f.plan_id || undefined,
  method: f.method || undefined,
  staff: f.staff || undefined,
});

export const fetchCharges = (f: ChargeFilter) =>
  call(api.GET('/charges', { params: { query: { ...chargeQuery(f), limit: 200 } } }));

export const exportCharges = (f: ChargeFilter) =>
  callBlob(api.GET('/charges/export.csv', { params: { query: chargeQuery(f) }, parseAs: 'blob' }));

/** Payment methods staff record (stored value pays purchases only). */
export const METHODS = ['cash', 'card', 'wechat', 'alipay', 'bank_transfer'] as const;
/** A way a sale or a renewal is paid (the balance included). */
export type PayMethod = Schemas['NewPassSale']['method'];
/** A way money comes in or goes back from outside (not the balance). */
export type OutsideMethod = Schemas['NewTopUpDoc']['method'];

/** The periods of a fee standard. */
export const PERIODS = ['month', 'quarter', 'year', 'days'] as const;
export type PeriodUnit = Schemas['NewMembershipPlan']['period_unit'];

/** Which sub-ledger pays first. */
export const SPEND_ORDERS = ['pro_rata', 'bonus_first', 'principal_first'] as const;

export type TopUp = Schemas['TopUpDoc'];

export const previewTopUpRefund = (memberId: string, topUpId: string) =>
  call(
    api.GET('/members/{id}/stored-value/top-ups/{top_up_id}/refund', {
      params: { path: { id: memberId, top_up_id: topUpId } },
    }),
  );

export const refundTopUp = (memberId: string, topUpId: string, body: Schemas['NewTopUpRefundDoc']) =>
  call(
    api.POST('/members/{id}/stored-value/top-ups/{top_up_id}/refund', {
      params: { path: { id: memberId, top_up_id: topUpId } },
      body,
    }),
  );
