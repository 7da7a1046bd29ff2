// A rule in one plain sentence, from its template (the form it was made from), for the rules
// page: 「每消费 ¥1 得 1 积分；首单 +200」 / "1 point per ¥1 spent; first purchase +200".
// Pure: the words come from the `ruleSummary.*` strings through the `t` it is given.

type Translate = (key: string, options?: Record<string, unknown>) => string;
type Json = Record<string, unknown>;

export interface SummaryContext {
  t: Translate;
  /** The console's language (weekday names, list separators). */
  lang: string;
  /** The money symbol: ¥. */
  symbol: string;
  /** Digits of the currency's minor unit (2 for yuan). */
  digits?: number;
  /** A tier's name for its code (the code when unknown). */
  tierName?: (code: string) => string;
  /** A coupon template's name for its id (the id when unknown). */
  couponName?: (id: string) => string;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
const obj = (v: unknown): Json | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
const arr = (v: unknown): Json[] => (Array.isArray(v) ? v.map(obj).filter((x): x is Json => x !== undefined) : []);

/** The coupon a form gives, by its template's name. */
function coupon(ctx: SummaryContext, t: Json, parts: string[]) {
  const id = str(t.coupon_template_id);
  if (id) parts.push(ctx.t('ruleSummary.coupon', { name: ctx.couponName?.(id) ?? id }));
}

/** `100` minor units as `¥1`, `150` as `¥1.5`. */
export function moneyText(minor: number, symbol: string, digits = 2): string {
  const major = minor / 10 ** digits;
  return `${symbol}${Number(major.toFixed(digits))}`;
}

/** `2000` thousandths as `×2`, `1500` as `×1.5`. */
export function factorText(permille: number): string {
  return `×${Number((permille / 1000).toFixed(3))}`;
}

/** Short weekday names, 1 = Monday … 7 = Sunday, in the console's language. */
export function weekdayName(day: number, lang: string): string {
  // 2024-01-01 was a Monday.
  const date = new Date(Date.UTC(2024, 0, day));
  try {
    return new Intl.DateTimeFormat(lang, { weekday: 'short', timeZone: 'UTC' }).format(date);
  } catch {
    return String(day);
  }
}

function points(ctx: SummaryContext, n: number): string {
  return ctx.t(n === 1 ? 'ruleSummary.pointsOne' : 'ruleSummary.points', { n });
}

function rate(ctx: SummaryContext, e: Json | undefined): string | undefined {
  const p = num(e?.points);
  const per = num(e?.per_amount);
  if (p === undefined || per === undefined) return undefined;
  return ctx.t('ruleSummary.rate', { amount: moneyText(per, ctx.symbol, ctx.digits), points: points(ctx, p) });
}

function days(ctx: SummaryContext, weekdays: unknown): string | undefined {
  if (!Array.isArray(weekdays) || weekdays.length === 0) return undefined;
  const ds = weekdays.filter((d): d is number => typeof d === 'number').sort((a, b) => a - b);
  if (ds.length === 2 && ds[0] === 6 && ds[1] === 7) return ctx.t('ruleSummary.weekends');
  if (ds.length === 5 && ds.every((d, i) => d === i + 1)) return ctx.t('ruleSummary.weekdays');
  return ds.map((d) => weekdayName(d, ctx.lang)).join(ctx.t('ruleSummary.and'));
}

function promotion(ctx: SummaryContext, p: Json): string {
  const when: string[] = [];
  const d = days(ctx, p.weekdays);
  if (d) when.push(d);
  const h = obj(p.hours);
  if (h && num(h.from) !== undefined && num(h.to) !== undefined) {
    when.push(ctx.t('ruleSummary.hours', { from: String(num(h.from)).padStart(2, '0'), to: String(num(h.to)).padStart(2, '0') }));
  }
  const what: string[] = [];
  const f = num(p.factor_permille);
  if (f !== undefined) what.push(factorText(f));
  const b = num(p.bonus_points);
  if (b !== undefined) what.push(ctx.t('ruleSummary.plus', { points: b }));
  const from = str(p.from);
  const to = str(p.to);
  return ctx.t('ruleSummary.promotion', {
    name: str(p.name) ?? '',
    when: when.length ? `${when.join(' ')} ` : '',
    what: what.join(' '),
    dates: from && to ? ctx.t('ruleSummary.dates', { from, to }) : '',
  }).trim();
}

/**
 * The template in one sentence, its parts joined with 「；」 / "; ". Undefined when the rule
 * was not made from a template (a hand-written script).
 */
export function ruleSummary(template: unknown, ctx: SummaryContext): string | undefined {
  const t = obj(template);
  const kind = str(t?.kind);
  if (!t || !kind) return undefined;
  const parts: string[] = [];
  const sep = ctx.t('ruleSummary.separator');
  switch (kind) {
    case 'purchase': {
      const base = rate(ctx, obj(t.base));
      if (base) parts.push(base);
      const min = num(t.minimum_spend);
      if (min !== undefined) parts.push(ctx.t('ruleSummary.minimumSpend', { amount: moneyText(min, ctx.symbol, ctx.digits) }));
      for (const m of arr(t.multipliers)) {
        const f = num(m.factor_permille) ?? 1000;
        const what = ctx.t(m.match === 'sku' ? 'ruleSummary.sku' : 'ruleSummary.category', { value: str(m.value) ?? '' });
        parts.push(f === 0 ? ctx.t('ruleSummary.noPoints', { what }) : `${what} ${factorText(f)}`);
      }
      if (t.use_tier_benefit === true) parts.push(ctx.t('ruleSummary.tierBenefit'));
      for (const m of arr(t.tier_multipliers)) {
        const code = str(m.tier) ?? '';
        parts.push(`${ctx.tierName?.(code) ?? code} ${factorText(num(m.factor_permille) ?? 1000)}`);
      }
      const birthday = obj(t.birthday_month);
      if (birthday) parts.push(ctx.t('ruleSummary.birthdayMonth', { factor: factorText(num(birthday.factor_permille) ?? 1000) }));
      for (const p of arr(t.promotions)) parts.push(promotion(ctx, p));
      const perPurchase = num(t.per_purchase_cap);
      if (perPurchase !== undefined) parts.push(ctx.t('ruleSummary.perPurchaseCap', { points: points(ctx, perPurchase) }));
      const daily = num(t.daily_cap);
      if (daily !== undefined) parts.push(ctx.t('ruleSummary.dailyCap', { points: points(ctx, daily) }));
      for (const b of arr(t.spend_bonuses)) {
        const min = num(b.min_amount);
        const p = num(b.points);
        if (min !== undefined && p !== undefined) {
          parts.push(ctx.t('ruleSummary.spendBonus', { amount: moneyText(min, ctx.symbol, ctx.digits), points: p }));
        }
      }
      const first = obj(t.first_purchase_bonus);
      if (first && num(first.points) !== undefined) parts.push(ctx.t('ruleSummary.firstPurchase', { points: num(first.points) }));
      coupon(ctx, t, parts);
      break;
    }
    case 'check_in':
    case 'referral':
    case 'birthday': {
      const p = num(t.points);
      if (p !== undefined) parts.push(ctx.t(`ruleSummary.fixed.${kind}`, { points: points(ctx, p) }));
      break;
    }
    case 'custom_event': {
      const event = str(t.event) ?? '';
      const p = num(t.points);
      if (p !== undefined && p > 0) parts.push(ctx.t('ruleSummary.fixed.event', { event, points: points(ctx, p) }));
      const per = rate(ctx, obj(t.per_amount));
      if (per) parts.push(ctx.t('ruleSummary.eventRate', { event, rate: per }));
      coupon(ctx, t, parts);
      if (parts.length === 0) parts.push(ctx.t('ruleSummary.nothing'));
      break;
    }
    default:
      return undefined;
  }
  return parts.join(sep);
}
