// An activity's price in the reader's language: free, points, stored value (¥30.00 储值) or
// one visit of a pass (1 次 瑜伽10次卡).
import type { TFunction } from 'i18next';
import { yuan } from '../prepaid/money';

/** The price kinds an activity may have, as the API names them. */
export const PRICE_KINDS = ['free', 'points', 'stored_value', 'pass'] as const;
export type PriceKind = (typeof PRICE_KINDS)[number];

export interface Priced {
  price_kind?: string;
  price_points: number;
  price_fen?: number;
  pass_product_name?: string | null;
}

/** The price as a reader sees it. */
export function priceText(t: TFunction, a: Priced): string {
  switch (a.price_kind) {
    case 'stored_value':
      return t('activities.price.storedValue', { amount: yuan(a.price_fen ?? 0) });
    case 'pass':
      return t('activities.price.pass', { product: a.pass_product_name ?? '' });
    case 'points':
      return t('activities.points', { count: a.price_points });
    default:
      return a.price_points > 0 ? t('activities.points', { count: a.price_points }) : t('activities.free');
  }
}
