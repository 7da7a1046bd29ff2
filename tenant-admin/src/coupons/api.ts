// Coupons: the calls of the coupons capability and their query keys. The business's coupon
// templates (create, change as a new version, archive), their batches of codes (with the
// codes for a CSV export), a member's coupons (give some), one coupon with its life,
// voiding one, and holding a coupon for a cart at the till (and letting go of it).
import { api, call, type Schemas } from '../api/client';

export type CouponTemplate = Schemas['CouponTemplate'];
export type CouponTerms = Schemas['CouponTerms'];
export type NewCouponTemplate = Schemas['NewCouponTemplate'];
export type CouponBatch = Schemas['CouponBatch'];
export type Coupon = Schemas['Coupon'];

/** The kinds a template gives, in the order the form offers them. */
export const KINDS = ['amount_off', 'percent_off', 'threshold', 'gift', 'free_visit'] as const;
export type Kind = (typeof KINDS)[number];

export const couponKeys = {
  all: ['coupons'] as const,
  templates: () => [...couponKeys.all, 'templates'] as const,
  batches: (templateId: string) => [...couponKeys.templates(), templateId, 'batches'] as const,
  member: (memberId: string) => [...couponKeys.all, 'member', memberId] as const,
  coupon: (id: string) => [...couponKeys.all, 'coupon', id] as const,
  /** A cart's check at the till (never cached for long: the cart changes as the clerk types). */
  check: (cart: unknown) => [...couponKeys.all, 'check', cart] as const,
};

export const fetchTemplates = () => call(api.GET('/coupon-templates'));

export const createTemplate = (body: NewCouponTemplate) => call(api.POST('/coupon-templates', { body }));

export const updateTemplate = (id: string, body: NewCouponTemplate) =>
  call(api.PUT('/coupon-templates/{template_id}', { params: { path: { template_id: id } }, body }));

export const setTemplateArchived = (id: string, archived: boolean) =>
  call(api.PUT('/coupon-templates/{template_id}/archived', { params: { path: { template_id: id } }, body: { archived } }));

export const fetchBatches = (templateId: string) =>
  call(api.GET('/coupon-templates/{template_id}/batches', { params: { path: { template_id: templateId } } }));

export const createBatch = (templateId: string, body: Schemas['NewCouponBatch']) =>
  call(api.POST('/coupon-templates/{template_id}/batches', { params: { path: { template_id: templateId } }, body }));

export const fetchBatchCodes = (templateId: string, batchId: string) =>
  call(
    api.GET('/coupon-templates/{template_id}/batches/{batch_id}/codes', {
      params: { path: { template_id: templateId, batch_id: batchId } },
    }),
  );

export const fetchMemberCoupons = (memberId: string) =>
  call(api.GET('/members/{id}/coupons', { params: { path: { id: memberId } } }));

export const issueCoupons = (memberId: string, body: Schemas['NewCouponIssue']) =>
  call(api.POST('/members/{id}/coupons', { params: { path: { id: memberId } }, body }));

export const fetchCoupon = (id: string) => call(api.GET('/coupons/{coupon_id}', { params: { path: { coupon_id: id } } }));

/** What a cart's coupon codes would take off, or why each does not apply (nothing is written). */
export const validateCoupons = (body: Schemas['CouponCart']) => call(api.POST('/coupons/validate', { body }));

export type CouponCheck = Schemas['CouponCheck'];
export type CouponReservation = Schemas['CouponReservation'];

/**
 * Holds a coupon for a cart for `minutes` under the cart's `reservationId` (holding it again
 * under the same id extends the hold). 409 `coupon_reserved` while another cart holds it,
 * `coupon_not_reservable` when used, voided or expired; 404 for a code that is not an
 * issued coupon (a business's public code is never held).
 */
export const reserveCoupon = (code: string, reservationId: string, minutes: number) =>
  call(
    api.POST('/coupons/{code}/reservations', {
      params: { path: { code } },
      body: { minutes, reservation_id: reservationId },
    }),
  );

/**
 * Lets go of a coupon the cart holds (a no-op when it does not). `keepalive` lets the request
 * outlive the page (a tab closed with the dialog open).
 */
export const releaseCoupon = (code: string, reservationId: string) =>
  call(
    api.DELETE('/coupons/{code}/reservations/{reservation_id}', {
      params: { path: { code, reservation_id: reservationId } },
      keepalive: true,
    }),
  );
export type CouponResult = Schemas['CouponResultView'];

export const voidCoupon = (id: string, reason: string) =>
  call(api.POST('/coupons/{coupon_id}/void', { params: { path: { coupon_id: id } }, body: { reason } }));

/** A batch's codes as CSV (code, status, valid until), with a BOM so spreadsheets read it as UTF-8. */
export function codesCsv(codes: readonly Pick<Coupon, 'code' | 'status' | 'valid_until'>[], header: readonly string[]): string {
  const quote = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = [header.map(quote).join(',')];
  for (const c of codes) lines.push([c.code, c.status, c.valid_until].map(quote).join(','));
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

export type SegmentIssue = Schemas['SegmentIssue'];

export const segmentKeys = (templateId: string) => [...couponKeys.templates(), templateId, 'segment-issues'] as const;

export const fetchSegmentIssues = (templateId: string) =>
  call(api.GET('/coupon-templates/{template_id}/segment-issues', { params: { path: { template_id: templateId } } }));

export const issueToSegment = (templateId: string, body: Schemas['NewSegmentIssue']) =>
  call(api.POST('/coupon-templates/{template_id}/segment-issues', { params: { path: { template_id: templateId } }, body }));

/** How far a segment issue got, in percent (a run that found nobody is complete). */
export function segmentPercent(r: Pick<SegmentIssue, 'done' | 'matched' | 'status'>): number {
  if (r.status !== 'running') return 100;
  if (r.matched <= 0) return 0;
  return Math.min(99, Math.floor((r.done * 100) / r.matched));
}
