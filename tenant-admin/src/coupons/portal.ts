// The member's coupons in the portal: theirs, those to claim, and a claim. These go through
// the portal's client (the member's token).
import { call } from '../api/client';
import { portalApi } from '../portal/client';

const at = (slug: string) => ({ path: { tenant: slug } });

export const portalCouponKeys = {
  mine: (slug: string, token: string | null) => ['portal', slug, 'coupons', token] as const,
  claimable: (slug: string, token: string | null) => ['portal', slug, 'claimable-coupons', token] as const,
};

export const fetchMyCoupons = (slug: string) => call(portalApi.GET('/portal/{tenant}/me/coupons', { params: at(slug) }));

export const fetchClaimable = (slug: string) =>
  call(portalApi.GET('/portal/{tenant}/me/claimable-coupons', { params: at(slug) }));

export const claimCoupon = (slug: string, body: { template_id?: string; code?: string; quantity?: number }) =>
  call(
    portalApi.POST('/portal/{tenant}/me/coupons/claim', {
      params: at(slug),
      body: { ...body, idempotency_key: crypto.randomUUID() },
    }),
  );
