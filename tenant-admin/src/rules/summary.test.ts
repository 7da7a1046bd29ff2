import { describe, expect, it } from 'vitest';
import i18next from 'i18next';
import { english, zh } from '../i18n/resources';
import { factorText, moneyText, ruleSummary, type SummaryContext } from './summary';

async function context(lng: 'zh-CN' | 'en'): Promise<SummaryContext> {
  const i = i18next.createInstance();
  await i.init({
    lng,
    resources: { 'zh-CN': { translation: zh }, en: { translation: english } },
    interpolation: { escapeValue: false },
  });
  const names: Record<string, string> = { jin_ka: lng === 'en' ? 'Gold' : '金卡' };
  return { t: i.t.bind(i) as SummaryContext['t'], lang: lng, symbol: '¥', digits: 2, tierName: (c) => names[c] ?? c };
}

const firstPurchase = {
  kind: 'purchase',
  base: { points: 1, per_amount: 100 },
  first_purchase_bonus: { points: 200 },
};

describe('rule summary', () => {
  it('says the base rate and the first-purchase bonus', async () => {
    expect(ruleSummary(firstPurchase, await context('zh-CN'))).toBe('每消费 ¥1 得 1 积分；首单 +200');
    expect(ruleSummary(firstPurchase, await context('en'))).toBe('1 point per ¥1 spent; first purchase +200');
  });

  it('reads money in yuan and factors as multiples', async () => {
    expect(moneyText(1050, '¥')).toBe('¥10.5');
    expect(moneyText(100, '¥')).toBe('¥1');
    expect(factorText(1500)).toBe('×1.5');
    const zhCtx = await context('zh-CN');
    expect(ruleSummary({ kind: 'purchase', base: { points: 3, per_amount: 1000 }, minimum_spend: 5000 }, zhCtx)).toBe(
      '每消费 ¥10 得 3 积分；满 ¥50 才积分',
    );
  });

  it('names tiers, categories, the birthday month, promotions and caps', async () => {
    const template = {
      kind: 'purchase',
      base: { points: 1, per_amount: 100 },
      multipliers: [
        { match: 'category', value: '饮料', factor_permille: 2000 },
        { match: 'sku', value: 'GIFT-CARD', factor_permille: 0 },
      ],
      tier_multipliers: [{ tier: 'jin_ka', factor_permille: 1500 }],
      birthday_month: { factor_permille: 2000 },
      promotions: [{ name: '周末双倍', from: '2026-01-01', to: '2026-12-31', weekdays: [6, 7], factor_permille: 2000 }],
      daily_cap: 500,
    };
    expect(ruleSummary(template, await context('zh-CN'))).toBe(
      '每消费 ¥1 得 1 积分；「饮料」类商品 ×2；商品 GIFT-CARD 不积分；金卡 ×1.5；生日当月 ×2；' +
        '周末双倍：周末 ×2（2026-01-01 至 2026-12-31）；每天最多 500 积分',
    );
    expect(ruleSummary(template, await context('en'))).toBe(
      '1 point per ¥1 spent; category “饮料” ×2; item GIFT-CARD earns nothing; Gold ×1.5; birthday month ×2; ' +
        '周末双倍: weekends ×2 (2026-01-01 to 2026-12-31); at most 500 points a day',
    );
  });

  it('names weekdays and hours of a promotion with bonus points', async () => {
    const template = {
      kind: 'purchase',
      base: { points: 1, per_amount: 100 },
      promotions: [
        { name: 'Member day', from: '2026-01-01', to: '2026-06-30', weekdays: [2], hours: { from: 10, to: 16 }, bonus_points: 50 },
      ],
    };
    expect(ruleSummary(template, await context('en'))).toBe(
      '1 point per ¥1 spent; Member day: Tue 10:00–16:00 +50 points (2026-01-01 to 2026-06-30)',
    );
    expect(ruleSummary(template, await context('zh-CN'))).toBe(
      '每消费 ¥1 得 1 积分；Member day：周二 10:00–16:00 +50 积分（2026-01-01 至 2026-06-30）',
    );
  });

  it('says fixed points and events', async () => {
    const zhCtx = await context('zh-CN');
    const enCtx = await context('en');
    expect(ruleSummary({ kind: 'check_in', points: 5 }, zhCtx)).toBe('每次签到得 5 积分');
    expect(ruleSummary({ kind: 'referral', points: 1 }, enCtx)).toBe('1 point per member referred');
    expect(ruleSummary({ kind: 'birthday', points: 100 }, enCtx)).toBe("100 points on the member's birthday");
    expect(
      ruleSummary({ kind: 'custom_event', event: 'review', points: 20, per_amount: { points: 1, per_amount: 200 } }, zhCtx),
    ).toBe('每次「review」得 20 积分；「review」每消费 ¥2 得 1 积分');
  });

  it('has nothing to say for a hand-written script', async () => {
    expect(ruleSummary(undefined, await context('en'))).toBeUndefined();
    expect(ruleSummary({ kind: 'nonsense' }, await context('en'))).toBeUndefined();
  });
});

describe('a rule that gives a coupon', () => {
  it('names the coupon template in the summary', async () => {
    const tpl = '0190f5a2-0000-7000-8000-000000000001';
    const ctx = { ...(await context('en')), couponName: (id: string) => (id === tpl ? 'Thanks' : id) };
    expect(ruleSummary({ ...firstPurchase, coupon_template_id: tpl }, ctx)).toBe(
      '1 point per ¥1 spent; first purchase +200; a coupon: Thanks',
    );
    const zhCtx = { ...(await context('zh-CN')), couponName: () => '感谢券' };
    expect(ruleSummary({ kind: 'custom_event', event: 'review', coupon_template_id: tpl }, zhCtx)).toBe('赠券：感谢券');
  });
});
