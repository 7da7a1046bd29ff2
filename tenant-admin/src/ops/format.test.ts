import { describe, expect, it } from 'vitest';
import { translator } from '../i18n/testing';
import { figuresNote, formatMoney, mapToRows, rowsToMap, usagePercent } from './format';


describe('ops formatting', () => {
  it('formats minor units by the currency', () => {
    expect(formatMoney(12900, 'CNY', 'en')).toBe('CN¥129.00');
    expect(formatMoney(500, 'JPY', 'en')).toBe('¥500');
    expect(formatMoney(5, 'XXX-not', 'en')).toBe('5 XXX-not');
  });

  it('computes usage shares', () => {
    expect(usagePercent(5, 10)).toBe(50);
    expect(usagePercent(15, 10)).toBe(100);
    expect(usagePercent(3, null)).toBeUndefined();
    expect(usagePercent(0, 0)).toBe(0);
  });

  it('converts limit rows and maps both ways', () => {
    const rows = [{ key: ' members ', value: 500 }, { key: '', value: 3 }, { key: 'staff', value: null }];
    expect(rowsToMap(rows)).toEqual({ members: 500 });
    expect(mapToRows({ members: 500 })).toEqual([{ key: 'members', value: 500 }]);
  });

  it('says how fresh the counted figures are, in both languages', async () => {
    const en = await translator('en');
    const cn = await translator('zh-CN');
    const at = '2026-03-05T08:30:00Z';
    const enAt = new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(at));
    expect(figuresNote(en, 'en', at, 0)).toBe(`Members and purchases as of ${enAt}`);
    expect(figuresNote(en, 'en', at, 2)).toBe(
      `Members and purchases as of ${enAt} (accounts not counted yet: 2)`,
    );
    expect(figuresNote(en, 'en', null, 3)).toBe(
      'Members and purchases have not been counted yet: they appear within a few minutes',
    );
    expect(figuresNote(en, 'en', null, 0)).toBe('');
    const cnAt = new Intl.DateTimeFormat('zh-CN', { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(at));
    expect(figuresNote(cn, 'zh-CN', at, 2)).toBe(`会员和消费统计于 ${cnAt}（尚未统计的商户：2 个）`);
    expect(figuresNote(cn, 'zh-CN', null, 1)).toBe('会员和消费尚未统计，几分钟内显示');
  });
});
