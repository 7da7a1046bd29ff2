import { describe, expect, it } from 'vitest';
import i18next, { type TFunction } from 'i18next';
import { english, zh } from '../i18n/resources';
import { reasonMoney, reasonText } from './reasons';

// The console's own strings, through a real i18next.
async function translator(lng: 'zh-CN' | 'en'): Promise<TFunction> {
  const i = i18next.createInstance();
  await i.init({
    lng,
    resources: { 'zh-CN': { translation: zh }, en: { translation: english } },
    interpolation: { escapeValue: false },
  });
  return i.t.bind(i) as TFunction;
}

// A purchase's entry as the server stores it while the business speaks zh-CN: the English
// words beside the code and values.
const earned = {
  reason: '1 point per 1.00 spent; welcome bonus',
  code: 'several',
  params: {
    parts: [
      { code: 'earn_rate', params: { points: 1, per: 100 } },
      { code: 'welcome_bonus', params: {} },
      { text: '会员日' },
    ],
  },
};

describe('ledger reasons', () => {
  it('are said in the reader language from their code, after a switch too', async () => {
    const zhT = await translator('zh-CN');
    const enT = await translator('en');
    const say = (t: TFunction, lang: string) =>
      reasonText(t, earned.reason, earned.code, earned.params, { currency: 'CNY', lang });
    expect(say(zhT, 'zh-CN')).toBe('每消费 ¥1 得 1 积分；新客首单奖励；会员日');
    expect(say(enT, 'en')).toBe('1 point per CN¥1 spent; Welcome bonus; 会员日');
    expect(reasonText(zhT, '899 off a purchase', 'redeem_off', { value: 899 }, { currency: 'CNY', lang: 'zh-CN' })).toBe(
      '抵扣 ¥8.99',
    );
    expect(reasonText(enT, 'points expired', 'points_expired', {})).toBe('Points expired');
    expect(reasonText(zhT, 'x', 'check_in_streak', { days: 7 })).toBe('连续签到 7 天');
  });

  it('name a tier by its current name in the reader language, the code only when no name came', async () => {
    const zhT = await translator('zh-CN');
    const enT = await translator('en');
    const gold = { 'zh-CN': '黄金会员', en: 'Gold member' };
    const params = { tier: 'gold', factor: '1.5', tier_name: gold };
    expect(reasonText(zhT, 'gold tier ×1.5', 'tier_factor', params, { lang: 'zh-CN' })).toBe('黄金会员 等级 1.5 倍');
    expect(reasonText(enT, 'gold tier ×1.5', 'tier_factor', params, { lang: 'en' })).toBe('Gold member tier ×1.5');
    const several = {
      parts: [
        { code: 'earn_rate', params: { points: 1, per: 100 } },
        { code: 'tier_bonus', params: { tier: 'gold', tier_name: gold } },
      ],
    };
    const zh = reasonText(zhT, 'x', 'several', several, { currency: 'CNY', lang: 'zh-CN' });
    expect(zh).toBe('每消费 ¥1 得 1 积分；黄金会员 等级加赠');
    expect(zh).not.toContain('gold');
    expect(reasonText(zhT, 'x', 'script_chose', { tier: 'gold', metric: 'visits', value: 3, tier_name: gold }, { lang: 'zh-CN' })).toContain(
      '黄金会员',
    );
    expect(reasonText(zhT, 'x', 'tier_bonus', { tier: 'gone' }, { lang: 'zh-CN' })).toBe('gone 等级加赠');
  });

  it('keep a person\u2019s words, and an unknown code falls back to the words', async () => {
    const zhT = await translator('zh-CN');
    expect(reasonText(zhT, 'goodwill')).toBe('goodwill');
    expect(reasonText(zhT, 'old words', 'no_such_code', {})).toBe('old words');
  });

  it('show amounts without a currency as plain numbers', () => {
    expect(reasonMoney(100, 'en')).toBe('1');
    expect(reasonMoney(899, 'en')).toBe('8.99');
  });
});
