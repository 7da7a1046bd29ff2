import { describe, expect, it } from 'vitest';
import { fromLocalInput, toLocalInput } from './time';
import { NEXT, STATUSES } from './api';

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
