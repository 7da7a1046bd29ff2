// Money in the business's currency, as the coupon screens show it.
import { useTranslation } from 'react-i18next';
import { useAuth } from '../auth/AuthContext';
import { moneyText } from '../prepaid/money';

export function useCouponMoney(): (minor: number) => string {
  const { i18n } = useTranslation();
  const { me } = useAuth();
  const currency = me?.tenant.currency ?? 'CNY';
  return (minor) => moneyText(minor, currency, i18n.language);
}
