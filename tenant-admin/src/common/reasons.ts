// Reasons the server writes itself arrive as a stable code and its values beside the English
// words; they are said here in the console's language, so a language switch says them again.
import type { TFunction } from 'i18next';
import { nameIn } from './format';

/** Values that are amounts of money, in the currency's smallest unit. */
const MONEY_PARAMS = ['per', 'value'];

/** An amount of money in a reason: ¥1, ¥8.99 (no currency known: 1, 8.99). */
export function reasonMoney(minor: number, lang: string, currency?: string): string {
  const whole = minor % 100 === 0;
  try {
    if (currency) {
      const f = new Intl.NumberFormat(lang, { style: 'currency', currency });
      const digits = f.resolvedOptions().maximumFractionDigits ?? 2;
      const major = minor / 10 ** digits;
      return new Intl.NumberFormat(lang, {
        style: 'currency',
        currency,
        minimumFractionDigits: Number.isInteger(major) ? 0 : digits,
      }).format(major);
    }
  } catch {
    // an unknown currency: the plain number below
  }
  return whole ? String(minor / 100) : (minor / 100).toFixed(2);
}

type Params = Record<string, unknown>;

/** How amounts are shown: the business's currency (with its symbol) and the reader's language. */
export interface MoneyOptions {
  currency?: string;
  lang?: string;
}

/** `reason` in the reader's language when it has a code, else as written (a person's words). */
export function reasonText(
  t: TFunction,
  reason: string,
  code?: string | null,
  params?: Params | null,
  money: MoneyOptions = {},
): string {
  if (!code) return reason;
  if (code === 'several') {
    const parts = Array.isArray(params?.parts) ? (params.parts as Params[]) : [];
    if (parts.length === 0) return reason;
    const said = parts.map((p) =>
      typeof p.code === 'string'
        ? reasonText(t, '', p.code, (p.params as Params | null) ?? null, money)
        : String(p.text ?? ''),
    );
    return said.join(t('reasons.separator'));
  }
  const p: Params = { ...(params ?? {}) };
  // A tier comes with its current names (the server adds them): the name, not the code.
  const tierName = p.tier_name as { 'zh-CN': string; en: string } | undefined;
  if (tierName && typeof tierName === 'object') p.tier = nameIn(tierName, money.lang ?? 'en') || p.tier;
  if (typeof p.metric === 'string') {
    p.metricName = t(`tiers.metric.${p.metric}`, { defaultValue: p.metric });
    // Spend is kept in the smallest unit of the currency.
    if (p.metric === 'spend') {
      for (const k of ['value', 'threshold']) if (typeof p[k] === 'number') p[k] = ((p[k] as number) / 100).toFixed(2);
    }
  } else {
    for (const k of MONEY_PARAMS) if (typeof p[k] === 'number') p[k] = reasonMoney(p[k] as number, money.lang ?? 'en', money.currency);
  }
  // `points` picks the plural where a language has one (1 point, 2 points).
  if (typeof p.points === 'number') p.count = p.points;
  return t(`reasons.${code}`, { ...p, defaultValue: reason });
}
