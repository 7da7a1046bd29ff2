import { describe, expect, it } from 'vitest';
import i18next from 'i18next';
import { english, zh } from '../i18n/resources';
import { RECIPES, addDays, recipeById } from './recipes';
import { ruleSummary } from './summary';
import { defaultForm, formToTemplate, templateToForm } from './template';

async function tr(lng: 'zh-CN' | 'en') {
  const i = i18next.createInstance();
  await i.init({ lng, resources: { 'zh-CN': { translation: zh }, en: { translation: english } }, interpolation: { escapeValue: false } });
  return i.t.bind(i) as (key: string, options?: Record<string, unknown>) => string;
}

const today = '2026-03-14';

describe('recipes', () => {
  it('each has a name and a description in both languages', async () => {
    for (const lng of ['zh-CN', 'en'] as const) {
      const t = await tr(lng);
      for (const r of RECIPES) {
        expect(t(`recipes.${r.id}.name`)).not.toBe(`recipes.${r.id}.name`);
        expect(t(`recipes.${r.id}.description`)).not.toBe(`recipes.${r.id}.description`);
      }
    }
  });

  it('weekend double adds a promotion on Saturday and Sunday for a year', async () => {
    const form = recipeById('weekend_double')!.apply(defaultForm('purchase'), { today, name: '周末双倍' });
    const template = formToTemplate('purchase', form);
    expect(template.promotions).toEqual([
      { name: '周末双倍', from: today, to: addDays(today, 364), weekdays: [6, 7], factor_permille: 2000 },
    ]);
    expect(template.base).toEqual({ points: 1, per_amount: 100 });
    const t = await tr('zh-CN');
    expect(ruleSummary(template, { t, lang: 'zh-CN', symbol: '¥' })).toBe(
      '每消费 ¥1 得 1 积分；周末双倍：周末 ×2（2026-03-14 至 2027-03-13）',
    );
  });

  it('keeps what the rule had and adds its part', () => {
    const had = templateToForm({ kind: 'purchase', base: { points: 2, per_amount: 1000 }, daily_cap: 300 });
    const form = recipeById('birthday_double')!.apply(had, { today, name: '生日双倍' });
    expect(formToTemplate('purchase', form)).toEqual({
      kind: 'purchase',
      base: { points: 2, per_amount: 1000 },
      birthday_month: { factor_permille: 2000 },
      daily_cap: 300,
    });
    const first = recipeById('first_purchase')!.apply(form, { today, name: '新客首单' });
    expect(formToTemplate('purchase', first).first_purchase_bonus).toEqual({ points: 200 });
  });

  it('applied twice, a weekly promotion is there once', () => {
    const r = recipeById('member_day')!;
    const once = r.apply(defaultForm('purchase'), { today, name: '会员日' });
    const twice = r.apply(once, { today, name: '会员日' });
    expect(formToTemplate('purchase', twice).promotions).toHaveLength(1);
  });

  it('off-peak hours are weekdays 10 to 16 at ×1.5', () => {
    const form = recipeById('off_peak')!.apply(defaultForm('purchase'), { today, name: '闲时加倍' });
    expect((formToTemplate('purchase', form).promotions as unknown[])[0]).toMatchObject({
      weekdays: [1, 2, 3, 4, 5],
      hours: { from: 10, to: 16 },
      factor_permille: 1500,
    });
  });

  it('fixed-point recipes fill their trigger', () => {
    expect(formToTemplate('check_in', recipeById('check_in')!.apply(defaultForm('check_in'), { today, name: '' }))).toEqual({
      kind: 'check_in',
      points: 5,
    });
    expect(formToTemplate('referral', recipeById('referral')!.apply(defaultForm('referral'), { today, name: '' })).points).toBe(300);
  });
  it('spend bonus adds ¥100 get 50 and the summary says it', async () => {
    const form = recipeById('spend_bonus')!.apply(defaultForm('purchase'), { today, name: '满 100 送 50' });
    const template = formToTemplate('purchase', form);
    expect(template.spend_bonuses).toEqual([{ min_amount: 10000, points: 50 }]);
    expect(templateToForm(template)).toMatchObject({ spend_bonuses: [{ min_amount: 100, points: 50 }] });
    const t = await tr('zh-CN');
    expect(ruleSummary(template, { t, lang: 'zh-CN', symbol: '¥' })).toBe('每消费 ¥1 得 1 积分；满 ¥100 送 50 积分');
  });
});
