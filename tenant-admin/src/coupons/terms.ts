// The coupon screens' logic that needs no server: a template's form values to the body the
// server reads (money typed in yuan, sent in fen) and back, and what a coupon gives in words.
import type { CouponTemplate, Kind, NewCouponTemplate } from './api';

type Translate = (key: string, options?: Record<string, unknown>) => string;

/** The template form, as a person fills it (money in yuan). */
export interface TemplateForm {
  name: string;
  kind: Kind;
  amount?: number | null;
  percent?: number | null;
  cap?: number | null;
  min_spend?: number | null;
  gift?: string;
  validity: 'days' | 'window';
  valid_days?: number | null;
  valid_from?: string | null;
  valid_until?: string | null;
  weekdays?: number[];
  hours_from?: number | null;
  hours_until?: number | null;
  excluded_dates?: string[];
  categories?: string[];
  skus?: string[];
  stores?: string[];
  tiers?: string[];
  stacking: 'exclusive' | 'combinable';
  max_per_purchase?: number | null;
  on_refund: 'restore' | 'forfeit';
  total?: number | null;
  per_member?: number | null;
  per_day?: number | null;
  claimable?: boolean;
  points_price?: number | null;
  shared_code?: string;
}

const fen = (yuan: number | null | undefined): number | undefined =>
  yuan === null || yuan === undefined ? undefined : Math.round(yuan * 100);
const yuanOf = (minor: number | null | undefined): number | undefined =>
  minor === null || minor === undefined ? undefined : minor / 100;
const some = <T,>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);
const list = (v: string[] | undefined): string[] => (v ?? []).map((s) => s.trim()).filter(Boolean);

/** The body of a new template (or its new version) from the form: only the fields its kind reads. */
export function templateBody(f: TemplateForm): NewCouponTemplate {
  const kind = f.kind;
  const window = f.validity === 'window';
  return {
    name: f.name.trim(),
    terms: {
      kind,
      amount: kind === 'amount_off' || kind === 'threshold' ? fen(f.amount) : undefined,
      percent: kind === 'percent_off' ? some(f.percent) : undefined,
      cap: kind === 'percent_off' ? fen(f.cap) : undefined,
      min_spend: fen(f.min_spend),
      gift: kind === 'gift' ? f.gift?.trim() : undefined,
      valid_days: window ? undefined : some(f.valid_days),
      valid_from: window ? some(f.valid_from) : undefined,
      valid_until: window ? some(f.valid_until) : undefined,
      weekdays: f.weekdays ?? [],
      hours_from: some(f.hours_from),
      hours_until: some(f.hours_until),
      excluded_dates: f.excluded_dates ?? [],
      categories: list(f.categories),
      skus: list(f.skus),
      stores: list(f.stores),
      tiers: list(f.tiers),
      stacking: f.stacking,
      max_per_purchase: some(f.max_per_purchase),
      on_refund: f.on_refund,
    },
    total: some(f.total),
    per_member: some(f.per_member),
    per_day: some(f.per_day),
    claimable: f.claimable ?? false,
    points_price: f.points_price ?? 0,
    shared_code: f.shared_code?.trim() || undefined,
  };
}

/** The form of an existing template (to change it). */
export function templateForm(t: CouponTemplate): TemplateForm {
  const s = t.terms;
  return {
    name: t.name,
    kind: s.kind as Kind,
    amount: yuanOf(s.amount),
    percent: some(s.percent),
    cap: yuanOf(s.cap),
    min_spend: s.min_spend ? yuanOf(s.min_spend) : undefined,
    gift: s.gift ?? undefined,
    validity: s.valid_from ? 'window' : 'days',
    valid_days: some(s.valid_days),
    valid_from: some(s.valid_from),
    valid_until: some(s.valid_until),
    weekdays: s.weekdays ?? [],
    hours_from: some(s.hours_from),
    hours_until: some(s.hours_until),
    excluded_dates: s.excluded_dates ?? [],
    categories: s.categories ?? [],
    skus: s.skus ?? [],
    stores: s.stores ?? [],
    tiers: s.tiers ?? [],
    stacking: (s.stacking as TemplateForm['stacking']) ?? 'exclusive',
    max_per_purchase: some(s.max_per_purchase),
    on_refund: (s.on_refund as TemplateForm['on_refund']) ?? 'restore',
    total: some(t.total),
    per_member: some(t.per_member),
    per_day: some(t.per_day),
    claimable: t.claimable,
    points_price: t.points_price,
    shared_code: t.shared_code ?? undefined,
  };
}

/** What a coupon gives, in words: "¥5.00 off", "20% off (at most ¥30.00)", "¥20.00 off from ¥100.00" ... */
export function benefitText(
  t: Translate,
  money: (minor: number) => string,
  s: { kind: string; amount?: number | null; percent?: number | null; cap?: number | null; min_spend?: number | null; gift?: string | null },
): string {
  switch (s.kind) {
    case 'amount_off':
      return t('coupons.benefit.amount_off', { amount: money(s.amount ?? 0) });
    case 'percent_off':
      return s.cap
        ? t('coupons.benefit.percent_off_cap', { percent: s.percent ?? 0, cap: money(s.cap) })
        : t('coupons.benefit.percent_off', { percent: s.percent ?? 0 });
    case 'threshold':
      return t('coupons.benefit.threshold', { amount: money(s.amount ?? 0), min: money(s.min_spend ?? 0) });
    case 'gift':
      return t('coupons.benefit.gift', { gift: s.gift ?? '' });
    case 'free_visit':
      return t('coupons.benefit.free_visit');
    default:
      return s.kind;
  }
}

/** The reasons a coupon does not apply that have words of their own (others read "does not apply"). */
export const REASONS = [
  'unknown_code',
  'duplicate',
  'other_member',
  'used',
  'voided',
  'not_yet_valid',
  'expired',
  'excluded_day',
  'excluded_hour',
  'not_in_scope',
  'min_spend',
  'not_combinable',
  'purchase_limit',
  'member_limit',
  'reserved',
  'sold_out',
  'day_limit',
  'unavailable',
] as const;

/** A time of day as a till shows it (`14:05`), in the browser's zone; empty when unreadable. */
export function clockTime(iso: string | null | undefined): string {
  const d = iso ? new Date(iso) : undefined;
  if (!d || Number.isNaN(d.getTime())) return '';
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/**
 * Why a coupon does not apply, in words, from the reason code the server gives. A coupon
 * held by another cart says until when, when that is known (`until`, from the 409
 * `coupon_reserved` of a hold).
 */
export function reasonText(t: Translate, reason: string | null | undefined, until?: string | null): string {
  if (reason === 'reserved' && clockTime(until)) return t('coupons.reason.reserved_until', { time: clockTime(until) });
  return (REASONS as readonly string[]).includes(reason ?? '') ? t(`coupons.reason.${reason}`) : t('coupons.reason.other');
}

/** Most codes one purchase may carry (the server's limit on `coupon_codes`). */
export const MAX_CODES = 5;

/** A code as the server reads it: trimmed, upper case. */
export const normaliseCode = (raw: string): string => raw.trim().toUpperCase();

/**
 * The codes after adding one typed or scanned: normalised, not twice, at most [`MAX_CODES`];
 * the same list when there is nothing to add.
 */
export function addCode(codes: readonly string[], raw: string): string[] {
  const code = normaliseCode(raw);
  if (!code || codes.includes(code) || codes.length >= MAX_CODES) return [...codes];
  return [...codes, code];
}
