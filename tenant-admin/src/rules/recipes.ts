// Common recipes a shop, a gym or a salon starts from: each fills a trigger's template form
// (the rule being edited keeps what it had; the recipe adds its part). Only what the server's
// templates can say is here (see `formToTemplate`); a recipe's words come from `recipes.*`.
import type { FixedForm, PurchaseForm, TemplateForm } from './template';

export interface Recipe {
  id: string;
  /** The trigger whose rule it fills. */
  trigger: 'purchase' | 'check_in' | 'referral' | 'birthday';
  /** The form with the recipe applied; `name` is the recipe's name in the console's language. */
  apply: (form: TemplateForm, ctx: { today: string; name: string }) => TemplateForm;
}

/** `2026-03-14` plus `days`. */
export function addDays(day: string, days: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

function purchase(form: TemplateForm): PurchaseForm {
  const f = form as PurchaseForm;
  return {
    ...f,
    base: f.base ?? { points: 1, per_amount: 1, rounding: 'floor' },
    promotions: [...(f.promotions ?? [])],
  };
}

/** A promotion for a year from today on some weekdays (and hours), ×factor. */
function weekly(form: TemplateForm, ctx: { today: string; name: string }, weekdays: number[], factor: number, hours?: { from: number; to: number }): PurchaseForm {
  const f = purchase(form);
  f.promotions = [
    ...(f.promotions ?? []).filter((p) => p.name !== ctx.name),
    { name: ctx.name, from: ctx.today, to: addDays(ctx.today, 364), weekdays, hours: hours ?? {}, factor_permille: factor },
  ];
  return f;
}

const fixed = (points: number) => (form: TemplateForm): TemplateForm => ({ ...(form as FixedForm), points });

export const RECIPES: readonly Recipe[] = [
  {
    id: 'birthday_double',
    trigger: 'purchase',
    apply: (form) => ({ ...purchase(form), birthday_month: { enabled: true, factor_permille: 2 } }),
  },
  {
    id: 'weekend_double',
    trigger: 'purchase',
    apply: (form, ctx) => weekly(form, ctx, [6, 7], 2),
  },
  {
    id: 'first_purchase',
    trigger: 'purchase',
    apply: (form) => ({ ...purchase(form), first_purchase_bonus: { enabled: true, points: 200 } }),
  },
  {
    id: 'member_day',
    trigger: 'purchase',
    apply: (form, ctx) => weekly(form, ctx, [2], 2),
  },
  {
    id: 'off_peak',
    trigger: 'purchase',
    apply: (form, ctx) => weekly(form, ctx, [1, 2, 3, 4, 5], 1.5, { from: 10, to: 16 }),
  },
  {
    id: 'spend_bonus',
    trigger: 'purchase',
    apply: (form) => {
      const f = purchase(form);
      return { ...f, spend_bonuses: [...(f.spend_bonuses ?? []).filter((b) => b.min_amount !== 100), { min_amount: 100, points: 50 }] };
    },
  },
  {
    id: 'daily_cap',
    trigger: 'purchase',
    apply: (form) => ({ ...purchase(form), daily_cap: 1000 }),
  },
  { id: 'check_in', trigger: 'check_in', apply: fixed(5) },
  { id: 'referral', trigger: 'referral', apply: fixed(300) },
  { id: 'birthday_gift', trigger: 'birthday', apply: fixed(100) },
];

export function recipeById(id: string | null | undefined): Recipe | undefined {
  return RECIPES.find((r) => r.id === id);
}
