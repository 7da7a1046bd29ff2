import { describe, expect, it } from 'vitest';
import { formatMoney, mapToRows, rowsToMap, usagePercent } from './format';

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
});
