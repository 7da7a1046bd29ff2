// The prepaid screens' arithmetic that needs no server: money in fen shown as yuan, the
// business's today, the end of a period sold today, the refund of a cancelled membership
// (the server's rule, shown before confirming) and the charge totals by day and by method.

import { formatMoney } from '../ops/format';

/** Yuan as typed, in fen. */
export const toMinor = (major: number | null | undefined): number => Math.round((major ?? 0) * 100);

/** Fen as yuan with two decimals and thousands separators: 123456 -> ¥1,234.56, -50 -> -¥0.50. */
export function yuan(minor: number): string {
  const sign = minor < 0 ? '-' : '';
  const abs = Math.abs(Math.trunc(minor));
  const whole = Math.floor(abs / 100)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const cents = (abs % 100).toString().padStart(2, '0');
  return `${sign}¥${whole}.${cents}`;
}

/** The local day (`YYYY-MM-DD`) of `now` in the business's time zone. */
export function todayIn(timeZone: string | undefined, now: Date = new Date()): string {
  try {
    return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
  } catch {
    return now.toISOString().slice(0, 10);
  }
}

const parse = (day: string): Date => new Date(`${day}T00:00:00Z`);
const show = (d: Date): string => d.toISOString().slice(0, 10);

export function addDays(day: string, days: number): string {
  const d = parse(day);
  d.setUTCDate(d.getUTCDate() + days);
  return show(d);
}

/** Whole days from `a` to `b` (negative when `b` is earlier). */
export function daysBetween(a: string, b: string): number {
  return Math.round((parse(b).getTime() - parse(a).getTime()) / 86_400_000);
}

/** `day` plus whole months, keeping the day of the month or the month's last day. */
export function addMonths(day: string, months: number): string {
  const d = parse(day);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + months;
  const last = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  return show(new Date(Date.UTC(y, m, Math.min(d.getUTCDate(), last))));
}

export type PeriodUnit = 'month' | 'quarter' | 'year' | 'days';

/**
 * The first day no longer covered by a period starting on `from` (as the server counts:
 * 31 Jan + 1 month -> 29 Feb in a leap year, 29 Feb + 1 year -> 28 Feb).
 */
export function periodEnd(from: string, unit: string, days?: number | null): string {
  switch (unit) {
    case 'month':
      return addMonths(from, 1);
    case 'quarter':
      return addMonths(from, 3);
    case 'year':
      return addMonths(from, 12);
    default:
      return addDays(from, days ?? 0);
  }
}

/** The last usable day of a pass sold on `today` (none when it never expires). */
export function passLastDay(today: string, validityDays?: number | null): string | undefined {
  return validityDays ? addDays(today, validityDays - 1) : undefined;
}

/**
 * What cancelling a membership on `today` gives back: the unused days' share of what was
 * paid, rounded down to the fen (`paid × days left ÷ days of the term`).
 */
export function cancelRefund(paid: number, startsOn: string, endsOn: string, today: string): number {
  const total = Math.max(0, daysBetween(startsOn, endsOn));
  if (total === 0) return 0;
  const from = today > startsOn ? today : startsOn;
  const left = Math.min(Math.max(0, daysBetween(from, endsOn)), total);
  return Number((BigInt(paid) * BigInt(left)) / BigInt(total));
}

export interface ChargeTotal {
  day: string;
  method: string;
  count: number;
  amount: number;
}

export interface Total {
  key: string;
  count: number;
  amount: number;
}

function sumBy(totals: readonly ChargeTotal[], key: (t: ChargeTotal) => string): Total[] {
  const out = new Map<string, Total>();
  for (const t of totals) {
    const k = key(t);
    const a = out.get(k) ?? { key: k, count: 0, amount: 0 };
    a.count += t.count;
    a.amount += t.amount;
    out.set(k, a);
  }
  return [...out.values()];
}

/** The charge totals (per day and method) summed by day, newest day first. */
export const totalsByDay = (totals: readonly ChargeTotal[]): Total[] =>
  sumBy(totals, (t) => t.day).sort((a, b) => (a.key < b.key ? 1 : a.key > b.key ? -1 : 0));

/** The charge totals summed by payment method, largest amount first. */
export const totalsByMethod = (totals: readonly ChargeTotal[]): Total[] =>
  sumBy(totals, (t) => t.method).sort((a, b) => b.amount - a.amount || a.key.localeCompare(b.key));

/** Money in the business's currency: yuan as `¥` with two decimals, others as the language writes them. */
export function moneyText(minor: number, currency: string, lang: string): string {
  if (currency === 'CNY') return yuan(minor);
  return formatMoney(minor, currency, lang);
}
