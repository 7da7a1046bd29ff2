// The prepaid screens' pieces that can go wrong without a server: yuan typed at the counter
// read as fen, money shown as ¥ with two decimals, the last day of a period sold today (the
// server's month arithmetic), the refund shown before a cancel (the server's rounding), the
// charge totals by day and by method, and a write refreshing every query of that member.
import { describe, expect, it } from 'vitest';
import { partialMatchKey } from '@tanstack/react-query';
import { prepaidKeys } from './api';
import {
  addDays,
  cancelRefund,
  daysBetween,
  moneyText,
  passLastDay,
  periodEnd,
  todayIn,
  toMinor,
  totalsByDay,
  totalsByMethod,
  yuan,
} from './money';

describe('prepaid', () => {
  it('reads yuan as whole fen, without floating-point loss', () => {
    expect(toMinor(0.29)).toBe(29);
    expect(toMinor(1000.1)).toBe(100010);
    expect(toMinor(19.99)).toBe(1999);
    expect(toMinor(undefined)).toBe(0);
  });

  it('shows fen as yuan with two decimals and thousands separators', () => {
    expect(yuan(0)).toBe('¥0.00');
    expect(yuan(5)).toBe('¥0.05');
    expect(yuan(123456)).toBe('¥1,234.56');
    expect(yuan(100000000)).toBe('¥1,000,000.00');
    expect(yuan(-46153)).toBe('-¥461.53');
    expect(moneyText(2000, 'CNY', 'en')).toBe('¥20.00');
    expect(moneyText(2000, 'CNY', 'zh-CN')).toBe('¥20.00');
    expect(moneyText(2000, 'USD', 'en')).toBe('$20.00');
  });

  it("counts the business's day in its time zone", () => {
    // 17:00 UTC on 31 Dec is already 1 Jan in Shanghai, still 31 Dec in New York.
    const now = new Date('2027-12-31T17:00:00Z');
    expect(todayIn('Asia/Shanghai', now)).toBe('2028-01-01');
    expect(todayIn('America/New_York', now)).toBe('2027-12-31');
  });

  it('ends periods as the server does: month ends clamp, leap days, N days', () => {
    expect(periodEnd('2028-01-31', 'month')).toBe('2028-02-29');
    expect(periodEnd('2027-01-31', 'month')).toBe('2027-02-28');
    expect(periodEnd('2028-02-29', 'year')).toBe('2029-02-28');
    expect(periodEnd('2027-11-30', 'quarter')).toBe('2028-02-29');
    expect(periodEnd('2027-12-15', 'month')).toBe('2028-01-15');
    expect(periodEnd('2028-02-20', 'days', 10)).toBe('2028-03-01');
    expect(addDays(periodEnd('2028-01-31', 'month'), -1)).toBe('2028-02-28');
    expect(passLastDay('2028-02-25', 5)).toBe('2028-02-29');
    expect(passLastDay('2028-02-25', null)).toBeUndefined();
    expect(daysBetween('2028-01-31', '2028-04-05')).toBe(65);
  });

  it("refunds the unused days' share rounded down, as docs/prepaid.md's example", () => {
    // Sold 31 Jan 2028 and renewed (¥600 in all), frozen 7 days: 31 Jan to 5 Apr; cancelled 15 Feb.
    expect(cancelRefund(60000, '2028-01-31', '2028-04-05', '2028-02-15')).toBe(46153);
    expect(cancelRefund(60000, '2028-01-31', '2028-04-05', '2028-01-20')).toBe(60000);
    expect(cancelRefund(60000, '2028-01-31', '2028-04-05', '2028-04-05')).toBe(0);
    expect(cancelRefund(60000, '2028-01-31', '2028-01-31', '2028-01-31')).toBe(0);
    expect(cancelRefund(100, '2028-01-01', '2028-01-04', '2028-01-02')).toBe(66);
  });

  it('sums the totals by day (newest first) and by method (largest first)', () => {
    const totals = [
      { day: '2028-03-02', method: 'cash', count: 1, amount: 5000 },
      { day: '2028-03-02', method: 'wechat', count: 2, amount: 30000 },
      { day: '2028-03-01', method: 'wechat', count: 1, amount: 10000 },
      { day: '2028-03-01', method: 'cash', count: 1, amount: -2000 },
    ];
    expect(totalsByDay(totals)).toEqual([
      { key: '2028-03-02', count: 3, amount: 35000 },
      { key: '2028-03-01', count: 2, amount: 8000 },
    ]);
    expect(totalsByMethod(totals)).toEqual([
      { key: 'wechat', count: 3, amount: 40000 },
      { key: 'cash', count: 2, amount: 3000 },
    ]);
  });

  it("refreshes the member's balance, passes, memberships and previews after a write", () => {
    const after = prepaidKeys.member('m1');
    for (const key of [
      prepaidKeys.storedValue('m1'),
      prepaidKeys.passes('m1'),
      prepaidKeys.memberships('m1'),
      prepaidKeys.preview('m1', 10000),
    ]) {
      expect(partialMatchKey(key, after)).toBe(true);
    }
    expect(partialMatchKey(prepaidKeys.storedValue('m2'), after)).toBe(false);
    // A sale refreshes the charge records and the ending list too.
    expect(partialMatchKey(prepaidKeys.charges({ from: '2028-03-01' }), prepaidKeys.business())).toBe(true);
    expect(partialMatchKey(prepaidKeys.ending(30), prepaidKeys.business())).toBe(true);
  });
});
