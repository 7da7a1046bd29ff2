import { describe, expect, it } from 'vitest';
import { translator } from '../i18n/testing';
import {
  CALLING_CODES,
  CURRENCIES,
  REGIONS,
  ZONES,
  currencyName,
  currencySymbol,
  discountText,
  planName,
  regionName,
  utcOffset,
  zoneName,
} from './format';


const winter = new Date('2026-01-15T12:00:00Z');
const summer = new Date('2026-07-15T12:00:00Z');

describe('discounts as a shop says them', async () => {
  const tz = await translator('zh-CN');
  const te = await translator('en');

  it('says 折 in Chinese', () => {
    expect(discountText(tz, 'zh-CN', 5)).toBe('95折');
    expect(discountText(tz, 'zh-CN', 12)).toBe('88折');
    expect(discountText(tz, 'zh-CN', 10)).toBe('9折');
    expect(discountText(tz, 'zh-CN', 50)).toBe('5折');
    expect(discountText(tz, 'zh-CN', 0)).toBe('无折扣');
  });

  it('says percent off in English', () => {
    expect(discountText(te, 'en', 5)).toBe('5% off');
    expect(discountText(te, 'en', 12)).toBe('12% off');
    expect(discountText(te, 'en', 0)).toBe('No discount');
  });
});

describe('zones, currencies and regions by name', async () => {
  const tz = await translator('zh-CN');
  const te = await translator('en');

  it('names a zone with its offset', () => {
    expect(zoneName(tz, 'Asia/Shanghai', winter)).toBe('中国标准时间 (UTC+8)');
    expect(zoneName(te, 'Asia/Shanghai', winter)).toBe('China Standard Time (UTC+8)');
    expect(zoneName(te, 'Asia/Kolkata', winter)).toBe('India Standard Time (UTC+5:30)');
    // Daylight saving time moves the offset.
    expect(utcOffset('America/New_York', winter)).toBe('UTC-5');
    expect(utcOffset('America/New_York', summer)).toBe('UTC-4');
    // A zone outside the list keeps its id.
    expect(zoneName(te, 'Africa/Nairobi', winter)).toBe('Africa/Nairobi (UTC+3)');
  });

  it('names a currency with its symbol', () => {
    expect(currencyName(tz, 'CNY')).toBe('人民币 ¥');
    expect(currencyName(te, 'CNY')).toBe('Chinese yuan ¥');
    expect(currencyName(tz, 'HKD')).toBe('港元 HK$');
    expect(currencySymbol('CNY')).toBe('¥');
    expect(currencySymbol('XYZ')).toBe('XYZ');
    expect(currencyName(te, 'XYZ')).toBe('XYZ');
  });

  it('names a phone region with its calling code', () => {
    expect(regionName(tz, 'CN')).toBe('中国大陆 +86');
    expect(regionName(te, 'CN')).toBe('Mainland China +86');
    expect(regionName(tz, 'HK')).toBe('中国香港 +852');
    expect(regionName(te, 'US')).toBe('United States +1');
  });

  it('has a name in both languages for everything it offers', () => {
    for (const t of [tz, te]) {
      for (const z of ZONES) expect(t(`lang.zones.${z.replace(/\//g, '_')}`), z).not.toMatch(/^lang\./);
      for (const c of CURRENCIES) expect(t(`lang.currencies.${c}`), c).not.toMatch(/^lang\./);
      for (const r of REGIONS) expect(t(`lang.regions.${r}`), r).not.toMatch(/^lang\./);
    }
    for (const z of ZONES) expect(utcOffset(z, winter), z).toMatch(/^UTC([+-]\d{1,2}(:\d\d)?)?$/);
    for (const must of ['CNY', 'HKD', 'MOP', 'TWD', 'USD', 'EUR', 'JPY', 'SGD']) expect(CURRENCIES).toContain(must);
    for (const must of ['CN', 'HK', 'MO', 'TW', 'SG', 'US']) expect(CALLING_CODES[must]).toBeTruthy();
  });

  it('names a plan in the caller language, else its code', () => {
    expect(planName(tz, 'starter')).toBe('入门版');
    expect(planName(te, 'starter')).toBe('Starter');
    expect(planName(tz, 'gold_2027', 'Gold')).toBe('Gold');
    expect(planName(tz, 'gold_2027')).toBe('gold_2027');
  });
});
