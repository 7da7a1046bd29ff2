import { describe, expect, it } from 'vitest';
import { change, lineSeries, shortDay, type Day } from './series';

const day = (d: string, r: number, i: number, x: number): Day => ({
  day: d,
  registrations: r,
  points_issued: i,
  points_redeemed: x,
  purchases: 0,
  spend: 0,
});

describe('dashboard series', () => {
  it('gives one point per day on every line, oldest first', () => {
    const s = lineSeries([day('2026-03-13', 1, 100, 0), day('2026-03-14', 3, 250, 40)]);
    expect(s.x).toEqual(['03-13', '03-14']);
    expect(s.lines.registrations).toEqual([1, 3]);
    expect(s.lines.points_issued).toEqual([100, 250]);
    expect(s.lines.points_redeemed).toEqual([0, 40]);
  });

  it('compares today with yesterday', () => {
    const days = [day('2026-03-13', 2, 0, 10), day('2026-03-14', 3, 5, 5)];
    expect(change(days, 'registrations')).toBe(50);
    expect(change(days, 'points_redeemed')).toBe(-50);
    expect(change(days, 'points_issued')).toBeUndefined();
    expect(change([], 'registrations')).toBeUndefined();
  });

  it('keeps an odd day label as it is', () => {
    expect(shortDay('today')).toBe('today');
  });
});
