import { formatDateTime } from '../common/format';

type Translate = (key: string, options?: Record<string, unknown>) => string;

/**
 * How fresh the dashboard's members and purchases are: a job counts each account every few
 * minutes, so they are "as of" the stalest count, and accounts not counted yet (new ones) are
 * named rather than shown as zero. Empty when there is no account at all.
 */
export function figuresNote(
  t: Translate,
  lang: string,
  asOf: string | null | undefined,
  notCounted: number,
): string {
  if (!asOf) return notCounted > 0 ? t('ops.totals.notCountedYet') : '';
  const time = formatDateTime(asOf, lang);
  return notCounted > 0
    ? t('ops.totals.asOfNotCounted', { time, count: notCounted })
    : t('ops.totals.asOf', { time });
}

/** Money in minor units as the currency's usual text (12900 CNY -> ¥129.00). */
export function formatMoney(minor: number, currency: string, lang: string): string {
  try {
    const f = new Intl.NumberFormat(lang, { style: 'currency', currency });
    const digits = f.resolvedOptions().maximumFractionDigits ?? 2;
    return f.format(minor / 10 ** digits);
  } catch {
    return `${minor} ${currency}`;
  }
}

/** Share of a limit used, 0-100 (unlimited -> undefined). */
export function usagePercent(usage: number, allowed: number | null | undefined): number | undefined {
  if (allowed === null || allowed === undefined) return undefined;
  if (allowed <= 0) return usage > 0 ? 100 : 0;
  return Math.min(100, Math.round((usage / allowed) * 100));
}

/** Turns the rows of a limits editor into the map the API takes; blank rows are dropped. */
export function rowsToMap(rows: readonly { key?: string; value?: number | null }[] | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rows ?? []) {
    const k = r.key?.trim();
    if (k && r.value !== undefined && r.value !== null) out[k] = r.value;
  }
  return out;
}

export function mapToRows(map: Readonly<Record<string, number>> | undefined): { key: string; value: number }[] {
  return Object.entries(map ?? {}).map(([key, value]) => ({ key, value }));
}
