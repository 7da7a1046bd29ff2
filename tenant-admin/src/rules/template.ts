// The template form of the rule editor and the request body it becomes. The form shows money
// in major units (yuan) and factors as multipliers (×1.5); the API takes minor units and
// thousandths. Every form item keeps the name of the template field it fills, so the
// server's field errors (`template.multipliers[0].value`) land on the item they are about.

export const BUILT_IN_TRIGGERS = ['purchase', 'check_in', 'referral', 'birthday'] as const;

export type TemplateKind = 'purchase' | 'check_in' | 'referral' | 'birthday' | 'custom_event';

/** The template kind that makes rules for a trigger (`event.review` -> `custom_event`). */
export function kindOfTrigger(trigger: string): TemplateKind {
  if (trigger.startsWith('event.')) return 'custom_event';
  return (BUILT_IN_TRIGGERS as readonly string[]).includes(trigger) ? (trigger as TemplateKind) : 'custom_event';
}

/** A trigger name the API accepts: one of the built-in ones or `event.<name>`. */
export function isTrigger(trigger: string): boolean {
  if ((BUILT_IN_TRIGGERS as readonly string[]).includes(trigger)) return true;
  return /^event\.[a-z0-9_]{1,40}$/.test(trigger);
}

export type Rounding = 'floor' | 'round' | 'ceil';

export interface EarningForm {
  points?: number | null;
  /** Major units (1 = 1 yuan). */
  per_amount?: number | null;
  rounding?: Rounding;
  label?: string;
}

export interface PurchaseForm {
  base: EarningForm;
  minimum_spend?: number | null;
  multipliers?: { match?: 'category' | 'sku'; value?: string; factor_permille?: number | null; label?: string }[];
  tier_mode?: 'none' | 'list' | 'benefit';
  tier_multipliers?: { tier?: string; factor_permille?: number | null; label?: string }[];
  tier_benefit_label?: string;
  birthday_month?: { enabled?: boolean; factor_permille?: number | null; label?: string };
  promotions?: {
    name?: string;
    from?: string;
    to?: string;
    weekdays?: number[];
    hours?: { from?: number | null; to?: number | null };
    factor_permille?: number | null;
    bonus_points?: number | null;
  }[];
  per_purchase_cap?: number | null;
  daily_cap?: number | null;
  /** Spend at least `min_amount` (major units), get `points` (消费满额赠分). */
  spend_bonuses?: { min_amount?: number | null; points?: number | null; label?: string }[];
  first_purchase_bonus?: { enabled?: boolean; points?: number | null; label?: string };
  /** A coupon of this template for each purchase the rule applies to. */
  coupon_template_id?: string | null;
}

export interface FixedForm {
  points?: number | null;
  label?: string;
}

export interface CustomEventForm {
  points?: number | null;
  label?: string;
  per_amount_enabled?: boolean;
  per_amount?: EarningForm;
  /** A coupon of this template for each such event. */
  coupon_template_id?: string | null;
}

export type TemplateForm = PurchaseForm | FixedForm | CustomEventForm;

export type Json = Record<string, unknown>;

const has = (v: number | null | undefined): v is number => v !== undefined && v !== null && !Number.isNaN(v);
const text = (s: string | undefined): string | undefined => {
  const t = s?.trim();
  return t ? t : undefined;
};

/** Major units to minor units (12.34 -> 1234 with 2 digits). */
export function toMinor(major: number, digits = 2): number {
  return Math.round(major * 10 ** digits);
}
export function fromMinor(minor: number, digits = 2): number {
  return minor / 10 ** digits;
}
/** ×1.5 -> 1500. */
export function toPermille(factor: number): number {
  return Math.round(factor * 1000);
}
export function fromPermille(permille: number): number {
  return permille / 1000;
}

function earning(e: EarningForm | undefined, digits: number): Json {
  const out: Json = {};
  if (has(e?.points)) out.points = e.points;
  if (has(e?.per_amount)) out.per_amount = toMinor(e.per_amount, digits);
  if (e?.rounding && e.rounding !== 'floor') out.rounding = e.rounding;
  const label = text(e?.label);
  if (label) out.label = label;
  return out;
}

function earningForm(e: Json | undefined, digits: number): EarningForm {
  return {
    points: num(e?.points),
    per_amount: has(num(e?.per_amount)) ? fromMinor(num(e?.per_amount)!, digits) : undefined,
    rounding: (e?.rounding as Rounding | undefined) ?? 'floor',
    label: str(e?.label),
  };
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
function obj(v: unknown): Json | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
}
function arr(v: unknown): Json[] {
  return Array.isArray(v) ? v.filter((x): x is Json => obj(x) !== undefined) : [];
}

/**
 * The template (request body `template`) a filled form stands for. Empty optional parts are
 * left out; `trigger` gives the kind (and, for `event.<name>`, the event's name).
 */
export function formToTemplate(trigger: string, form: TemplateForm, digits = 2): Json {
  const kind = kindOfTrigger(trigger);
  if (kind === 'purchase') {
    const f = form as PurchaseForm;
    const t: Json = { kind, base: earning(f.base, digits) };
    if (has(f.minimum_spend)) t.minimum_spend = toMinor(f.minimum_spend, digits);
    const multipliers = (f.multipliers ?? []).map((m) => {
      const o: Json = { match: m.match ?? 'category', value: m.value?.trim() ?? '' };
      if (has(m.factor_permille)) o.factor_permille = toPermille(m.factor_permille);
      const label = text(m.label);
      if (label) o.label = label;
      return o;
    });
    if (multipliers.length) t.multipliers = multipliers;
    if (f.tier_mode === 'list') {
      const tiers = (f.tier_multipliers ?? []).map((m) => {
        const o: Json = { tier: m.tier?.trim() ?? '' };
        if (has(m.factor_permille)) o.factor_permille = toPermille(m.factor_permille);
        const label = text(m.label);
        if (label) o.label = label;
        return o;
      });
      if (tiers.length) t.tier_multipliers = tiers;
    } else if (f.tier_mode === 'benefit') {
      t.use_tier_benefit = true;
      const label = text(f.tier_benefit_label);
      if (label) t.tier_benefit_label = label;
    }
    if (f.birthday_month?.enabled) {
      const b: Json = {};
      if (has(f.birthday_month.factor_permille)) b.factor_permille = toPermille(f.birthday_month.factor_permille);
      const label = text(f.birthday_month.label);
      if (label) b.label = label;
      t.birthday_month = b;
    }
    const promotions = (f.promotions ?? []).map((p) => {
      const o: Json = { name: p.name?.trim() ?? '', from: p.from ?? '', to: p.to ?? '' };
      if (p.weekdays?.length) o.weekdays = [...p.weekdays].sort((a, b) => a - b);
      if (has(p.hours?.from) || has(p.hours?.to)) o.hours = { from: p.hours?.from ?? 0, to: p.hours?.to ?? 24 };
      if (has(p.factor_permille)) o.factor_permille = toPermille(p.factor_permille);
      if (has(p.bonus_points)) o.bonus_points = p.bonus_points;
      return o;
    });
    if (promotions.length) t.promotions = promotions;
    if (has(f.per_purchase_cap)) t.per_purchase_cap = f.per_purchase_cap;
    if (has(f.daily_cap)) t.daily_cap = f.daily_cap;
    const spend = (f.spend_bonuses ?? []).map((b) => {
      const o: Json = {};
      if (has(b.min_amount)) o.min_amount = toMinor(b.min_amount, digits);
      if (has(b.points)) o.points = b.points;
      const label = text(b.label);
      if (label) o.label = label;
      return o;
    });
    if (spend.length) t.spend_bonuses = spend;
    if (f.first_purchase_bonus?.enabled) {
      const b: Json = {};
      if (has(f.first_purchase_bonus.points)) b.points = f.first_purchase_bonus.points;
      const label = text(f.first_purchase_bonus.label);
      if (label) b.label = label;
      t.first_purchase_bonus = b;
    }
    if (f.coupon_template_id) t.coupon_template_id = f.coupon_template_id;
    return t;
  }
  if (kind === 'custom_event') {
    const f = form as CustomEventForm;
    const t: Json = { kind, event: trigger.replace(/^event\./, '') };
    if (has(f.points)) t.points = f.points;
    const label = text(f.label);
    if (label) t.label = label;
    if (f.per_amount_enabled) t.per_amount = earning(f.per_amount, digits);
    if (f.coupon_template_id) t.coupon_template_id = f.coupon_template_id;
    return t;
  }
  const f = form as FixedForm;
  const t: Json = { kind };
  if (has(f.points)) t.points = f.points;
  const label = text(f.label);
  if (label) t.label = label;
  return t;
}

/** The form showing a stored template (a draft's or a version's), the inverse of [`formToTemplate`]. */
export function templateToForm(template: unknown, digits = 2): TemplateForm {
  const t = obj(template) ?? {};
  const kind = str(t.kind);
  if (kind === 'purchase') {
    const tiers = arr(t.tier_multipliers);
    const birthday = obj(t.birthday_month);
    const first = obj(t.first_purchase_bonus);
    const permille = (v: unknown) => (has(num(v)) ? fromPermille(num(v)!) : undefined);
    const form: PurchaseForm = {
      base: earningForm(obj(t.base), digits),
      minimum_spend: has(num(t.minimum_spend)) ? fromMinor(num(t.minimum_spend)!, digits) : undefined,
      multipliers: arr(t.multipliers).map((m) => ({
        match: (str(m.match) as 'category' | 'sku' | undefined) ?? 'category',
        value: str(m.value),
        factor_permille: permille(m.factor_permille),
        label: str(m.label),
      })),
      tier_mode: t.use_tier_benefit === true ? 'benefit' : tiers.length ? 'list' : 'none',
      tier_multipliers: tiers.map((m) => ({ tier: str(m.tier), factor_permille: permille(m.factor_permille), label: str(m.label) })),
      tier_benefit_label: str(t.tier_benefit_label),
      birthday_month: birthday
        ? { enabled: true, factor_permille: permille(birthday.factor_permille), label: str(birthday.label) }
        : { enabled: false },
      promotions: arr(t.promotions).map((p) => {
        const hours = obj(p.hours);
        return {
          name: str(p.name),
          from: str(p.from),
          to: str(p.to),
          weekdays: Array.isArray(p.weekdays) ? p.weekdays.filter((d): d is number => typeof d === 'number') : [],
          hours: hours ? { from: num(hours.from), to: num(hours.to) } : {},
          factor_permille: permille(p.factor_permille),
          bonus_points: num(p.bonus_points),
        };
      }),
      per_purchase_cap: num(t.per_purchase_cap),
      daily_cap: num(t.daily_cap),
      spend_bonuses: arr(t.spend_bonuses).map((b) => ({
        min_amount: has(num(b.min_amount)) ? fromMinor(num(b.min_amount)!, digits) : undefined,
        points: num(b.points),
        label: str(b.label),
      })),
      first_purchase_bonus: first ? { enabled: true, points: num(first.points), label: str(first.label) } : { enabled: false },
      coupon_template_id: str(t.coupon_template_id),
    };
    return form;
  }
  if (kind === 'custom_event') {
    const per = obj(t.per_amount);
    return {
      points: num(t.points),
      label: str(t.label),
      per_amount_enabled: per !== undefined,
      per_amount: per ? earningForm(per, digits) : { rounding: 'floor' },
      coupon_template_id: str(t.coupon_template_id),
    } satisfies CustomEventForm;
  }
  return { points: num(t.points), label: str(t.label) } satisfies FixedForm;
}

/** The form a new rule of a trigger starts from. */
export function defaultForm(trigger: string): TemplateForm {
  switch (kindOfTrigger(trigger)) {
    case 'purchase':
      return {
        base: { points: 1, per_amount: 1, rounding: 'floor' },
        multipliers: [],
        tier_mode: 'none',
        tier_multipliers: [],
        birthday_month: { enabled: false },
        promotions: [],
        first_purchase_bonus: { enabled: false },
      } satisfies PurchaseForm;
    case 'check_in':
      return { points: 5 };
    case 'referral':
      return { points: 300 };
    case 'birthday':
      return { points: 100 };
    default:
      return { points: 10, per_amount_enabled: false, per_amount: { rounding: 'floor' } } satisfies CustomEventForm;
  }
}

/**
 * A server field path (`template.multipliers[0].value`, `template.base.points`) as the name
 * of a form item (`['multipliers', 0, 'value']`), or undefined when it is not about the form.
 */
export function templateFieldPath(field: string): (string | number)[] | undefined {
  const m = /^template(?:\.(.+))?$/.exec(field);
  if (!m || !m[1]) return undefined;
  const parts: (string | number)[] = [];
  for (const piece of m[1].split('.')) {
    const re = /([^[\]]+)|\[(\d+)\]/g;
    let x: RegExpExecArray | null;
    while ((x = re.exec(piece)) !== null) {
      if (x[1] !== undefined) parts.push(x[1]);
      else parts.push(Number(x[2]));
    }
  }
  // `use_tier_benefit` and `tier_multipliers` are chosen with one control in the form.
  if (parts[0] === 'use_tier_benefit') return ['tier_mode'];
  // A problem with a whole hours object belongs under its `from`.
  if (parts.length === 4 && parts[0] === 'promotions' && parts[2] === 'hours' && parts[3] !== 'from' && parts[3] !== 'to') {
    return undefined;
  }
  return parts;
}

export interface TemplateErrors {
  fields: { name: (string | number)[]; errors: string[] }[];
  rest: string[];
}

/** Sorts a 422's field problems into those shown on the form and the rest. */
export function mapTemplateErrors(problems: readonly { field: string; problem: string }[]): TemplateErrors {
  const byName = new Map<string, { name: (string | number)[]; errors: string[] }>();
  const rest: string[] = [];
  for (const { field, problem } of problems) {
    const name = templateFieldPath(field);
    if (!name || name.length === 0) {
      rest.push(field ? `${field}: ${problem}` : problem);
      continue;
    }
    const key = JSON.stringify(name);
    const entry = byName.get(key) ?? { name, errors: [] };
    entry.errors.push(problem);
    byName.set(key, entry);
  }
  return { fields: [...byName.values()], rest };
}
