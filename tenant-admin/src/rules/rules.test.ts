import { describe, expect, it } from 'vitest';
import { ApiProblem } from '../api/errors';
import { failureRange, toDiagnostics } from './diagnostics';
import { diffStats, lineDiff } from './diff';
import { editorStart, isHandEdited, sourceBody } from './editor';
import { compileFailureOf, PlanProblem, publishFailure } from './problems';
import { eventTime, signed, simulateBody, sortedCases, summarise } from './simulation';
import {
  defaultForm,
  formToTemplate,
  isTrigger,
  kindOfTrigger,
  mapTemplateErrors,
  templateFieldPath,
  templateToForm,
  type PurchaseForm,
} from './template';

describe('template form to request body', () => {
  it('turns a purchase form with money in yuan and factors as multipliers into the template', () => {
    const form: PurchaseForm = {
      base: { points: 1, per_amount: 1, rounding: 'round', label: '  ' },
      minimum_spend: 50,
      multipliers: [{ match: 'category', value: ' drinks ', factor_permille: 2 }],
      tier_mode: 'list',
      tier_multipliers: [{ tier: 'gold', factor_permille: 1.5 }],
      birthday_month: { enabled: true, factor_permille: 2 },
      promotions: [
        { name: 'Tuesdays', from: '2026-03-01', to: '2026-03-31', weekdays: [4, 2], hours: { from: 14, to: 17 }, factor_permille: 2 },
      ],
      per_purchase_cap: 500,
      daily_cap: 1000,
      first_purchase_bonus: { enabled: true, points: 200, label: 'welcome' },
    };
    expect(formToTemplate('purchase', form)).toEqual({
      kind: 'purchase',
      base: { points: 1, per_amount: 100, rounding: 'round' },
      minimum_spend: 5000,
      multipliers: [{ match: 'category', value: 'drinks', factor_permille: 2000 }],
      tier_multipliers: [{ tier: 'gold', factor_permille: 1500 }],
      birthday_month: { factor_permille: 2000 },
      promotions: [
        { name: 'Tuesdays', from: '2026-03-01', to: '2026-03-31', weekdays: [2, 4], hours: { from: 14, to: 17 }, factor_permille: 2000 },
      ],
      per_purchase_cap: 500,
      daily_cap: 1000,
      first_purchase_bonus: { points: 200, label: 'welcome' },
    });
  });

  it('leaves out the parts that are switched off or empty', () => {
    const t = formToTemplate('purchase', {
      ...(defaultForm('purchase') as PurchaseForm),
      tier_multipliers: [{ tier: 'gold', factor_permille: 2 }],
      tier_mode: 'none',
      first_purchase_bonus: { enabled: false, points: 100 },
    });
    expect(t).toEqual({ kind: 'purchase', base: { points: 1, per_amount: 100 } });
  });

  it('uses the tier benefit instead of a list when asked', () => {
    const t = formToTemplate('purchase', { base: { points: 1, per_amount: 1 }, tier_mode: 'benefit', tier_benefit_label: 'VIP' });
    expect(t).toMatchObject({ use_tier_benefit: true, tier_benefit_label: 'VIP' });
    expect(t).not.toHaveProperty('tier_multipliers');
  });

  it('makes fixed and custom-event templates, the event named by the trigger', () => {
    expect(formToTemplate('check_in', { points: 5, label: '' })).toEqual({ kind: 'check_in', points: 5 });
    expect(formToTemplate('birthday', { points: 100, label: 'Happy' })).toEqual({ kind: 'birthday', points: 100, label: 'Happy' });
    expect(
      formToTemplate('event.review', { points: 10, per_amount_enabled: true, per_amount: { points: 2, per_amount: 10 } }),
    ).toEqual({ kind: 'custom_event', event: 'review', points: 10, per_amount: { points: 2, per_amount: 1000 } });
  });

  it('round-trips a stored template through the form', () => {
    const stored = {
      kind: 'purchase',
      base: { points: 3, per_amount: 1000, rounding: 'ceil', label: 'points' },
      minimum_spend: 1999,
      multipliers: [{ match: 'sku', value: 'LATTE', factor_permille: 0 }],
      use_tier_benefit: true,
      promotions: [{ name: 'May', from: '2026-05-01', to: '2026-05-31', bonus_points: 20 }],
      first_purchase_bonus: { points: 200 },
    };
    expect(formToTemplate('purchase', templateToForm(stored))).toEqual(stored);
    const custom = { kind: 'custom_event', event: 'review', points: 10 };
    expect(formToTemplate('event.review', templateToForm(custom))).toEqual(custom);
  });

  it('knows the kind of each trigger and which triggers exist', () => {
    expect(kindOfTrigger('purchase')).toBe('purchase');
    expect(kindOfTrigger('event.review')).toBe('custom_event');
    expect(isTrigger('event.app_open')).toBe(true);
    expect(isTrigger('event.App')).toBe(false);
    expect(isTrigger('refund')).toBe(false);
  });
});

describe('server field errors on the template form', () => {
  it('turns paths with indexes into form item names', () => {
    expect(templateFieldPath('template.multipliers[0].value')).toEqual(['multipliers', 0, 'value']);
    expect(templateFieldPath('template.base.points')).toEqual(['base', 'points']);
    expect(templateFieldPath('template.promotions[2].weekdays[1]')).toEqual(['promotions', 2, 'weekdays', 1]);
    expect(templateFieldPath('template.use_tier_benefit')).toEqual(['tier_mode']);
    expect(templateFieldPath('template')).toBeUndefined();
    expect(templateFieldPath('script')).toBeUndefined();
  });

  it('groups problems by item and keeps the rest for a general message', () => {
    const m = mapTemplateErrors([
      { field: 'template.base.points', problem: 'must be greater than 0' },
      { field: 'template.base.points', problem: 'again' },
      { field: 'template', problem: 'not a valid form' },
    ]);
    expect(m.fields).toEqual([{ name: ['base', 'points'], errors: ['must be greater than 0', 'again'] }]);
    expect(m.rest).toEqual(['template: not a valid form']);
  });
});

describe('compile errors as editor diagnostics', () => {
  const script = 'let a = 1;\nlet b = foo(a);\naward(b, "x");';

  it('points at the word at the line and column', () => {
    const r = failureRange(script, 2, 9);
    expect(script.slice(r.from, r.to)).toBe('foo');
  });

  it('marks one character when the column is on punctuation, the line without a column', () => {
    const r = failureRange(script, 2, 12);
    expect(script.slice(r.from, r.to)).toBe('(');
    const line = failureRange(script, 3);
    expect(script.slice(line.from, line.to)).toBe('award(b, "x");');
  });

  it('puts errors past the end at the end and clamps columns past the line', () => {
    expect(failureRange(script, 9, 1)).toEqual({ from: script.length, to: script.length });
    const r = failureRange(script, 1, 80);
    expect(r.from).toBe(10);
  });

  it('makes no diagnostic when the script compiles', () => {
    expect(toDiagnostics(script, undefined)).toEqual([]);
    expect(toDiagnostics(script, { kind: 'compile', message: 'Unknown function', line: 2, column: 9 })).toEqual([
      { from: 19, to: 22, severity: 'error', message: 'Unknown function' },
    ]);
  });
});

describe('publish errors', () => {
  it('reads the compile error of a 422 with its place', () => {
    expect(compileFailureOf('does not compile (line 3, column 7): Expecting ;')).toEqual({
      kind: 'compile',
      message: 'Expecting ;',
      line: 3,
      column: 7,
    });
    expect(compileFailureOf('must not be empty')).toBeUndefined();
    const err = new ApiProblem(422, {
      code: 'invalid_input',
      message: 'bad',
      fields: [{ field: 'script', problem: 'does not compile (line 1): oops' }],
    });
    expect(publishFailure(err)).toEqual({ kind: 'compile', failure: { kind: 'compile', message: 'oops', line: 1, column: undefined } });
  });

  it('names the missing feature and the plans that have it on a 402', () => {
    const err = new PlanProblem(402, {
      code: 'feature_not_in_plan',
      message: 'no',
      fields: [],
      plan: 'starter',
      feature: 'rule_scripts',
      plans: ['pro', 'business'],
      upgrade_to: 'pro',
    });
    expect(publishFailure(err)).toEqual({ kind: 'needs_feature', feature: 'rule_scripts', plans: ['pro', 'business'], upgradeTo: 'pro' });
    expect(publishFailure(new Error('x'))).toEqual({ kind: 'other' });
  });
});

describe('simulation', () => {
  it('gives event.time with the weekday of the local date', () => {
    expect(eventTime('2026-03-10T14:30')).toEqual({ iso: '2026-03-10T14:30:00', year: 2026, month: 3, day: 10, hour: 14, weekday: 2 });
    expect(eventTime('2026-03-15')).toMatchObject({ weekday: 7, hour: 0 });
    expect(eventTime('soon')).toBeUndefined();
  });

  it('builds the request from typed events and the last purchases', () => {
    const body = simulateBody({
      trigger: 'purchase',
      script: '1',
      lastPurchases: 100,
      events: [{ amount: 12.34, category: 'drinks', tier: 'gold', visits: 0 }],
    });
    expect(body).toEqual({
      trigger: 'purchase',
      script: '1',
      last_purchases: 100,
      events: [
        {
          event: { amount: 1234, items: [{ sku: '', name: '', category: 'drinks', quantity: 1, unit_price: 1234 }] },
          member: { tier: 'gold', birthday: '', totals: { visits: 0, points_today: 0 } },
        },
      ],
    });
    expect(simulateBody({ trigger: 'purchase', script: '1', lastPurchases: 0, events: [] })).not.toHaveProperty('last_purchases');
  });

  const sim = {
    trigger: 'purchase',
    active_version: 3,
    totals: { cases: 3, draft_points: 150, active_points: 100, difference: 50, draft_errors: 0, active_errors: 0, changed: 2 },
    most_affected: [],
    cases: [
      { index: 0, draft_points: 10, active_points: 10, difference: 0, draft_reasons: [] },
      { index: 1, draft_points: 20, active_points: 30, difference: -10, draft_reasons: [] },
      { index: 2, draft_points: 120, active_points: 60, difference: 60, draft_reasons: [] },
    ],
  };

  it('summarises the totals and the change in percent', () => {
    expect(summarise(sim)).toEqual({ cases: 3, draft: 150, active: 100, difference: 50, percent: 50, changed: 2, errors: 0, compared: true });
    expect(summarise({ ...sim, active_version: undefined, totals: { ...sim.totals, active_points: 0 } })).toMatchObject({
      compared: false,
      percent: undefined,
    });
  });

  it('lists the cases that changed most first', () => {
    expect(sortedCases(sim.cases).map((c) => c.index)).toEqual([2, 1, 0]);
    expect(sortedCases(sim.cases, true).map((c) => c.index)).toEqual([2, 1]);
    expect(signed(5)).toBe('+5');
    expect(signed(-5)).toBe('-5');
    expect(signed(0)).toBe('0');
  });
});

describe('version diff', () => {
  it('numbers the lines of both versions', () => {
    const rows = lineDiff('a\nb\nc\n', 'a\nB\nc\nd\n');
    expect(rows).toEqual([
      { kind: 'same', text: 'a', oldLine: 1, newLine: 1 },
      { kind: 'removed', text: 'b', oldLine: 2 },
      { kind: 'added', text: 'B', newLine: 2 },
      { kind: 'same', text: 'c', oldLine: 3, newLine: 3 },
      { kind: 'added', text: 'd', newLine: 4 },
    ]);
    expect(diffStats(rows)).toEqual({ added: 2, removed: 1 });
  });
});

describe('where the editor starts and what it sends', () => {
  const template = { kind: 'purchase', base: { points: 1, per_amount: 100 } };
  const version = (n: number, active: boolean, script: string, tmpl?: unknown) => ({
    version: n,
    trigger: 'purchase',
    script,
    template: tmpl,
    note: '',
    published_by: 'staff:x',
    published_at: '2026-01-01T00:00:00Z',
    active,
  });

  it('starts from the draft, then the version in force, then the default form', () => {
    const draft = { trigger: 'purchase', script: 'draft()', template, updated_by: 'x', updated_at: '2026-01-01T00:00:00Z' };
    const fromDraft = editorStart('purchase', { trigger: 'purchase', draft }, [version(1, true, 'v1()')]);
    expect(fromDraft.script).toBe('draft()');
    expect(fromDraft.generated).toEqual({ script: 'draft()', template });
    expect(fromDraft.form).toMatchObject({ base: { points: 1, per_amount: 1 } });

    const fromActive = editorStart('purchase', undefined, [version(2, false, 'old()'), version(1, true, 'hand()')]);
    expect(fromActive.script).toBe('hand()');
    expect(fromActive.generated).toBeUndefined();
    expect(fromActive.form).toEqual(defaultForm('purchase'));

    expect(editorStart('check_in', undefined, [])).toEqual({ form: { points: 5 }, script: '', generated: undefined });
  });

  it('sends the template while the script is unchanged, the script once edited by hand', () => {
    const generated = { script: 'gen()', template };
    expect(sourceBody('gen()', generated)).toEqual({ template });
    expect(isHandEdited('gen()', generated)).toBe(false);
    expect(sourceBody('gen();\n// mine', generated)).toEqual({ script: 'gen();\n// mine' });
    expect(isHandEdited('gen()', undefined)).toBe(true);
    expect(sourceBody('x()', undefined)).toEqual({ script: 'x()' });
  });
});

describe('a rule form that gives a coupon', () => {
  const tpl = '0190f5a2-0000-7000-8000-000000000001';
  it('keeps the template in purchase and custom event forms, and leaves it out when none is chosen', () => {
    const purchase = formToTemplate('purchase', { base: { points: 1, per_amount: 1 }, coupon_template_id: tpl });
    expect(purchase.coupon_template_id).toBe(tpl);
    expect(templateToForm(purchase)).toMatchObject({ coupon_template_id: tpl });
    const event = formToTemplate('event.review', { coupon_template_id: tpl });
    expect(event).toEqual({ kind: 'custom_event', event: 'review', coupon_template_id: tpl });
    expect(formToTemplate('purchase', { base: { points: 1, per_amount: 1 }, coupon_template_id: null })).not.toHaveProperty(
      'coupon_template_id',
    );
  });
});
