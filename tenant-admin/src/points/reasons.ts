import type { Schemas } from '../api/client';

type Reason = Schemas['PointReason'];

/** The reasons stored on a purchase (a JSON array of `{points, reason, line?}`), defensively. */
export function purchaseReasons(raw: unknown): Reason[] {
  if (!Array.isArray(raw)) return [];
  return raw.filter(
    (r): r is Reason =>
      r !== null && typeof r === 'object' && typeof (r as Reason).points === 'number' && typeof (r as Reason).reason === 'string',
  );
}

/** How many minor units digits a currency has (CNY 2, JPY 0). */
export function currencyDigits(currency: string): number {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** An amount typed in major units (12.34 yuan) as minor units (1234). */
export function toMinor(major: number, currency: string): number {
  return Math.round(major * 10 ** currencyDigits(currency));
}
