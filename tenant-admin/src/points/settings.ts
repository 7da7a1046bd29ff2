// The point settings form and the body of `PUT /points/settings`. Money (the redemption
// value) is typed in major units; the API takes minor units.
import type { Schemas } from '../api/client';

type View = Schemas['PointSettingsView'];

export type ExpiryMode = 'never' | 'days' | 'end_of_month' | 'end_of_year';

export interface SettingsForm {
  expiry_mode: ExpiryMode;
  expiry_days?: number | null;
  expiry_months?: number | null;
  refund_shortfall: 'debt' | 'negative';
  redeem_points: number;
  /** Major units. */
  redeem_value: number;
  min_redeem_points: number;
  max_deduction_percent: number;
  check_in_points: number;
  streak_days: number;
  streak_bonus: number;
  /** Above this many points a redemption needs the member's confirmation; empty: never. */
  redemption_check_above?: number | null;
}

/** The form's items, for server field errors (`expiry.days` lands on `expiry_days`). */
export const SETTINGS_ITEMS = [
  'expiry_mode',
  'expiry_days',
  'expiry_months',
  'refund_shortfall',
  'redeem_points',
  'redeem_value',
  'min_redeem_points',
  'max_deduction_percent',
  'check_in_points',
  'streak_days',
  'streak_bonus',
  'redemption_check_above',
] as const;
export const SETTINGS_ALIAS: Record<string, string> = {
  expiry: 'expiry_mode',
  'expiry.mode': 'expiry_mode',
  'expiry.days': 'expiry_days',
  'expiry.months': 'expiry_months',
};

function expiryOf(raw: unknown): { mode: ExpiryMode; days?: number; months?: number } {
  if (raw && typeof raw === 'object') {
    const e = raw as { mode?: unknown; days?: unknown; months?: unknown };
    const mode = (['never', 'days', 'end_of_month', 'end_of_year'] as const).find((m) => m === e.mode) ?? 'never';
    return {
      mode,
      days: typeof e.days === 'number' ? e.days : undefined,
      months: typeof e.months === 'number' ? e.months : undefined,
    };
  }
  return { mode: 'never' };
}

export function settingsToForm(v: View, digits = 2): SettingsForm {
  const e = expiryOf(v.expiry);
  return {
    expiry_mode: e.mode,
    expiry_days: e.days ?? 365,
    expiry_months: e.months ?? 12,
    refund_shortfall: v.refund_shortfall === 'negative' ? 'negative' : 'debt',
    redeem_points: v.redeem_points,
    redeem_value: v.redeem_value / 10 ** digits,
    min_redeem_points: v.min_redeem_points,
    max_deduction_percent: v.max_deduction_percent,
    check_in_points: v.check_in_points,
    streak_days: v.streak_days,
    streak_bonus: v.streak_bonus,
    redemption_check_above: v.redemption_check_above ?? null,
  };
}

export function formToSettings(f: SettingsForm, digits = 2): View {
  const expiry =
    f.expiry_mode === 'days'
      ? { mode: 'days', days: f.expiry_days ?? 0 }
      : f.expiry_mode === 'end_of_month' || f.expiry_mode === 'end_of_year'
        ? { mode: f.expiry_mode, months: f.expiry_months ?? 0 }
        : { mode: 'never' };
  return {
    expiry,
    refund_shortfall: f.refund_shortfall,
    redeem_points: f.redeem_points,
    redeem_value: Math.round(f.redeem_value * 10 ** digits),
    min_redeem_points: f.min_redeem_points,
    max_deduction_percent: f.max_deduction_percent,
    check_in_points: f.check_in_points,
    streak_days: f.streak_days,
    streak_bonus: f.streak_bonus,
    redemption_check_above: f.redemption_check_above ?? undefined,
  };
}
