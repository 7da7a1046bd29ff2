// What a redemption will spend, worked out before it is sent, so the clerk confirms the
// points and their money value: for money off with the points left empty, the most the
// business allows (never silently the whole balance without saying so).
import type { Schemas } from '../api/client';

type Settings = Pick<
  Schemas['PointSettingsView'],
  'redeem_points' | 'redeem_value' | 'max_deduction_percent' | 'min_redeem_points' | 'redemption_check_above'
>;

export interface RedemptionPreview {
  /** Points that will be spent. */
  points: number;
  /** Their value in minor units. */
  value: number;
  /** For money off: what is left to pay, in minor units. */
  amountDue?: number;
  /** The member must confirm (their code or an SMS code). */
  needsCheck: boolean;
}

/** The money `points` are worth (minor units, rounded down). */
export function valueOf(s: Settings, points: number): number {
  return Math.floor((points * s.redeem_value) / s.redeem_points);
}

/**
 * The redemption as the server will make it: a reward spends the points given; money off
 * spends the points given, else as many as the balance and the cap allow.
 */
export function previewRedemption(
  s: Settings,
  balance: number,
  req: { points?: number | null; purchaseAmount?: number | null },
): RedemptionPreview {
  let points = req.points ?? 0;
  if (req.purchaseAmount !== undefined && req.purchaseAmount !== null) {
    const capValue = Math.floor((req.purchaseAmount * s.max_deduction_percent) / 100);
    const capPoints = Math.floor((capValue * s.redeem_points) / s.redeem_value);
    const most = Math.max(0, Math.min(balance, capPoints));
    points = req.points ?? most;
    const value = Math.min(valueOf(s, points), req.purchaseAmount);
    return {
      points,
      value,
      amountDue: req.purchaseAmount - value,
      needsCheck: s.redemption_check_above != null && points > s.redemption_check_above,
    };
  }
  return {
    points,
    value: valueOf(s, points),
    needsCheck: s.redemption_check_above != null && points > s.redemption_check_above,
  };
}
