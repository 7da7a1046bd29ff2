// The activities calendar's arithmetic: each activity on the business's local day it starts.
import type { Activity } from './api';
import { toLocalInput } from './time';

/** Activities by the local day they start on (`YYYY-MM-DD` in `zone`), each day by time. */
export function byLocalDay(activities: readonly Activity[], zone: string): Map<string, Activity[]> {
  const out = new Map<string, Activity[]>();
  for (const a of activities) {
    const day = toLocalInput(a.starts_at, zone).slice(0, 10);
    if (!day) continue;
    const list = out.get(day) ?? [];
    list.push(a);
    out.set(day, list);
  }
  for (const list of out.values()) list.sort((a, b) => a.starts_at.localeCompare(b.starts_at));
  return out;
}

/** How many activities start in a month (`YYYY-MM`), for the year view. */
export function countInMonth(days: Map<string, Activity[]>, month: string): number {
  let n = 0;
  for (const [day, list] of days) if (day.startsWith(month)) n += list.length;
  return n;
}
