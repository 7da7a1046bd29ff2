// The simulation request built from what the user typed, and the summary of its answer.
import type { Schemas } from '../api/client';
import { toMinor } from './template';

type Simulation = Schemas['Simulation'];
type SimCase = Schemas['SimCase'];

/** An event typed in for a simulation. */
export interface TypedEvent {
  /** Amount paid, in major units. */
  amount?: number | null;
  /** Local date and time in the business's time zone, `2026-03-14T09:30`. */
  time?: string;
  /** Category of the whole amount, as one purchase line (optional). */
  category?: string;
  sku?: string;
  tier?: string;
  /** Purchases the member made before (0 = a first purchase). */
  visits?: number | null;
  /** `1990-03-20`, for birthday-month rules. */
  birthday?: string;
  /** Points the member already earned that day, for daily caps. */
  points_today?: number | null;
}

/** `event.time` as a rule sees it, from a local `YYYY-MM-DDTHH:mm`. */
export function eventTime(local: string): Record<string, unknown> | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}))?/.exec(local);
  if (!m) return undefined;
  const [year, month, day, hour] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4] ?? 0)];
  const minute = m[5] ?? '00';
  // The weekday of a calendar date does not depend on the time zone.
  const js = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
  const weekday = js === 0 ? 7 : js;
  const pad = (n: number) => String(n).padStart(2, '0');
  return {
    iso: `${year}-${pad(month)}-${pad(day)}T${pad(hour)}:${minute}:00`,
    year,
    month,
    day,
    hour,
    weekday,
  };
}

/** One typed event as the API's `SimEvent`. */
export function toSimEvent(e: TypedEvent, digits = 2): Schemas['SimEvent'] {
  const event: Record<string, unknown> = {};
  const amount = e.amount !== undefined && e.amount !== null ? toMinor(e.amount, digits) : 0;
  event.amount = amount;
  if (e.category?.trim() || e.sku?.trim()) {
    event.items = [{ sku: e.sku?.trim() ?? '', name: '', category: e.category?.trim() ?? '', quantity: 1, unit_price: amount }];
  }
  const time = e.time ? eventTime(e.time) : undefined;
  if (time) event.time = time;
  const member: Record<string, unknown> = {
    tier: e.tier?.trim() ?? '',
    birthday: e.birthday?.trim() ?? '',
    totals: { visits: e.visits ?? 0, points_today: e.points_today ?? 0 },
  };
  return { event, member };
}

export interface SimRequestInput {
  trigger: string;
  script: string;
  lastPurchases?: number | null;
  events: TypedEvent[];
}

/** The body of `POST /rules/simulate`. */
export function simulateBody(input: SimRequestInput, digits = 2): Schemas['SimulateInput'] {
  const body: Schemas['SimulateInput'] = {
    trigger: input.trigger,
    script: input.script,
    events: input.events.map((e) => toSimEvent(e, digits)),
  };
  if (input.lastPurchases) body.last_purchases = input.lastPurchases;
  return body;
}

export interface SimSummary {
  cases: number;
  draft: number;
  active: number;
  difference: number;
  /** Relative change, in percent of the active total (undefined when that is 0). */
  percent?: number;
  changed: number;
  errors: number;
  /** Whether anything is in force to compare with. */
  compared: boolean;
}

export function summarise(sim: Simulation): SimSummary {
  const t = sim.totals;
  return {
    cases: t.cases,
    draft: t.draft_points,
    active: t.active_points,
    difference: t.difference,
    percent: t.active_points === 0 ? undefined : Math.round((t.difference / t.active_points) * 1000) / 10,
    changed: t.changed,
    errors: t.draft_errors,
    compared: sim.active_version !== undefined && sim.active_version !== null,
  };
}

/** Cases, those that changed most first (then in their order), optionally only the changed ones. */
export function sortedCases(cases: readonly SimCase[], onlyChanged = false): SimCase[] {
  return cases
    .filter((c) => !onlyChanged || c.difference !== 0 || c.draft_error)
    .slice()
    .sort((a, b) => Math.abs(b.difference) - Math.abs(a.difference) || a.index - b.index);
}

/** `+12`, `-3`, `0`. */
export function signed(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}
