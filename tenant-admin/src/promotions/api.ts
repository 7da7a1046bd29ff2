// Promotions (优惠活动): the calls of the promotions capability and its query keys. Drafts
// created and replaced, published, stopped or deleted; the list with each one's phase and
// results. The member's side (running and upcoming promotions) is in `./portal.ts`.
import { api, call, type Schemas } from '../api/client';

export type Promotion = Schemas['Promotion'];
export type PromotionInput = Schemas['PromotionInput'];

/** The phases a promotion goes through. */
export const PHASES = ['draft', 'scheduled', 'running', 'ended', 'stopped'] as const;
export type Phase = (typeof PHASES)[number];

export const promotionKeys = {
  all: ['promotions'] as const,
  list: (phase: string | undefined) => [...promotionKeys.all, 'list', phase ?? 'all'] as const,
  one: (id: string) => [...promotionKeys.all, 'one', id] as const,
};

export const fetchPromotions = (phase?: Phase) => call(api.GET('/promotions', { params: { query: { phase } } }));

export const fetchPromotion = (id: string) =>
  call(api.GET('/promotions/{promotion_id}', { params: { path: { promotion_id: id } } }));

export const createPromotion = (body: PromotionInput) => call(api.POST('/promotions', { body }));

export const updatePromotion = (id: string, body: PromotionInput) =>
  call(api.PUT('/promotions/{promotion_id}', { params: { path: { promotion_id: id } }, body }));

export const deletePromotion = (id: string) =>
  call(api.DELETE('/promotions/{promotion_id}', { params: { path: { promotion_id: id } } }));

export const publishPromotion = (id: string) =>
  call(api.POST('/promotions/{promotion_id}/publish', { params: { path: { promotion_id: id } } }));

export const stopPromotion = (id: string) =>
  call(api.POST('/promotions/{promotion_id}/stop', { params: { path: { promotion_id: id } } }));
