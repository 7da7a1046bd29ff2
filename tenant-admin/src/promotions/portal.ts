// The running and upcoming promotions in the member portal, through the portal's client
// (the member's token).
import { call } from '../api/client';
import { portalApi } from '../portal/client';

export const portalPromotionKeys = {
  list: (slug: string, token: string | null) => ['portal', slug, 'promotions', token] as const,
};

export const fetchPortalPromotions = (slug: string) =>
  call(portalApi.GET('/portal/{tenant}/promotions', { params: { path: { tenant: slug } } }));
