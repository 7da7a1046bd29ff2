import { describe, expect, it } from 'vitest';
import { fromLocalInput, toLocalInput } from './time';
import { NEXT, STATUSES } from './api';
import { segmentOf, segmentParts } from './segment';
import { byLocalDay, countInMonth } from './calendar';
import type { Activity } from './api';

describe('activity times on the business clock', () => {
  it('reads and writes Shanghai wall-clock time whatever the computer zone', () => {
    expect(fromLocalInput('2026-12-24T19:30', 'Asia/Shanghai')).toBe('2026-12-24T11:30:00.000Z');
    expect(toLocalInput('2026-12-24T11:30:00Z', 'Asia/Shanghai')).toBe('2026-12-24T19:30');
  });

  it('follows daylight saving time', () => {
    expect(fromLocalInput('2026-07-01T09:00', 'Europe/Berlin')).toBe('2026-07-01T07:00:00.000Z');
    expect(fromLocalInput('2026-01-15T09:00', 'Europe/Berlin')).toBe('2026-01-15T08:00:00.000Z');
  });

  it('leaves empty or unreadable input out', () => {
    expect(fromLocalInput('', 'Asia/Shanghai')).toBeUndefined();
    expect(fromLocalInput('tomorrow', 'Asia/Shanghai')).toBeUndefined();
    expect(toLocalInput(null, 'Asia/Shanghai')).toBe('');
  });
});

describe('activity states', () => {
  it('name a next state only among the states', () => {
    for (const s of STATUSES) for (const n of NEXT[s] ?? []) expect(STATUSES).toContain(n);
    expect(NEXT.finished).toEqual([]);
  });
});

describe('an activity segment from the form', () => {
  it('is left out when no condition is given', () => {
    expect(segmentOf(undefined)).toBeUndefined();
    expect(segmentOf({ name: '  ', tags: [], tier: ' ' })).toBeUndefined();
  });

  it('keeps the given conditions as a member search', () => {
    const s = segmentOf({ name: ' 贵宾 ', tags: ['vip', ' '], tier: 'gold', joined_from: '2026-01-01' });
    expect(s).toMatchObject({ name: '贵宾', tags: ['vip'], tier: 'gold', joined_from: '2026-01-01' });
    expect(s?.joined_to).toBeUndefined();
  });
});

describe('the activities calendar', () => {
  const at = (id: string, starts_at: string) => ({ id, title: id, starts_at, status: 'published' }) as Activity;

  it('puts each activity on the business day it starts, by time', () => {
    // 23:30 UTC on the 4th is 07:30 on the 5th in Shanghai.
    const days = byLocalDay([at('late', '2026-12-05T10:00:00Z'), at('early', '2026-12-04T23:30:00Z')], 'Asia/Shanghai');
    expect([...days.keys()]).toEqual(['2026-12-05']);
    expect(days.get('2026-12-05')?.map((a) => a.id)).toEqual(['early', 'late']);
    expect(countInMonth(days, '2026-12')).toBe(2);
    expect(countInMonth(days, '2026-11')).toBe(0);
  });
});

describe('a kept segment shown', () => {
  it('lists the given conditions in the form order', () => {
    expect(segmentParts({ name: '贵宾', tags: ['vip', 'gold'], tier: 'g', custom: [], ids: [] } as never)).toEqual([
      ['name', '贵宾'],
      ['tags', 'vip, gold'],
      ['tier', 'g'],
    ]);
    expect(segmentParts(null)).toEqual([]);
  });
});
