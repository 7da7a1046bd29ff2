// The dashboard's chart: the last 30 days as line series, free of React so it can be tested.
export interface Day {
  day: string;
  registrations: number;
  points_issued: number;
  points_redeemed: number;
  purchases: number;
  spend: number;
}

export type SeriesKey = 'registrations' | 'points_issued' | 'points_redeemed';

export const SERIES: readonly SeriesKey[] = ['registrations', 'points_issued', 'points_redeemed'];

/** `03-14` from `2026-03-14`: the axis has room for month and day only. */
export function shortDay(day: string): string {
  const m = /^\d{4}-(\d{2})-(\d{2})$/.exec(day);
  return m ? `${m[1]}-${m[2]}` : day;
}

/** The x axis and one line per figure; registrations on their own axis (they are few). */
export function lineSeries(days: readonly Day[]): { x: string[]; lines: Record<SeriesKey, number[]> } {
  return {
    x: days.map((d) => shortDay(d.day)),
    lines: {
      registrations: days.map((d) => d.registrations),
      points_issued: days.map((d) => d.points_issued),
      points_redeemed: days.map((d) => d.points_redeemed),
    },
  };
}

/** Today against yesterday, in percent (undefined when yesterday had nothing). */
export function change(days: readonly Day[], key: SeriesKey): number | undefined {
  const today = days[days.length - 1];
  const before = days[days.length - 2];
  if (!today || !before || before[key] === 0) return undefined;
  return Math.round(((today[key] - before[key]) / before[key]) * 100);
}
