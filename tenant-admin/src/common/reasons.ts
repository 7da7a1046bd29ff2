// Reasons the server writes itself arrive as a stable code and its values beside the English
// words; they are said here in the console's language, so a language switch says them again.
import type { TFunction } from 'i18next';

/** `reason` in the reader's language when it has a code, else as written (a person's words). */
export function reasonText(
  t: TFunction,
  reason: string,
  code?: string | null,
  params?: Record<string, unknown> | null,
): string {
  if (!code) return reason;
  const p = { ...(params ?? {}) };
  if (typeof p.metric === 'string') {
    p.metricName = t(`tiers.metric.${p.metric}`, { defaultValue: p.metric });
    // Spend is kept in the smallest unit of the currency.
    if (p.metric === 'spend') {
      for (const k of ['value', 'threshold']) if (typeof p[k] === 'number') p[k] = ((p[k] as number) / 100).toFixed(2);
    }
  }
  return t(`reasons.${code}`, { ...p, defaultValue: reason });
}
