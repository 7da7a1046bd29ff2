import { describe, expect, it } from 'vitest';
import i18next, { type TFunction } from 'i18next';
import { english, zh } from '../i18n/resources';
import { priceText } from './price';

async function translator(lng: 'zh-CN' | 'en'): Promise<TFunction> {
  const i = i18next.createInstance();
  await i.init({
    lng,
    resources: { 'zh-CN': { translation: zh }, en: { translation: english } },
    interpolation: { escapeValue: false },
  });
  return i.t.bind(i) as TFunction;
}

describe("an activity's price in the reader's language", () => {
  it('says stored value in yuan and a pass visit by the product name', async () => {
    const zhT = await translator('zh-CN');
    const enT = await translator('en');
    const sv = { price_kind: 'stored_value', price_points: 0, price_fen: 3000 };
    const pass = { price_kind: 'pass', price_points: 0, pass_product_name: '瑜伽10次卡' };
    expect(priceText(zhT, sv)).toBe('¥30.00 储值');
    expect(priceText(enT, sv)).toBe('¥30.00 stored value');
    expect(priceText(zhT, pass)).toBe('1 次 瑜伽10次卡');
    expect(priceText(enT, pass)).toBe('1 visit of 瑜伽10次卡');
  });

  it('says points or free as before', async () => {
    const zhT = await translator('zh-CN');
    expect(priceText(zhT, { price_kind: 'points', price_points: 100 })).toBe('100 积分');
    expect(priceText(zhT, { price_kind: 'free', price_points: 0 })).toBe('免费');
    expect(priceText(zhT, { price_points: 0 })).toBe('免费');
  });
});
