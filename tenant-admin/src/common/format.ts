/** A timestamp in the tenant's time zone, in the console's language. */
export function formatDateTime(
  iso: string | null | undefined,
  lang: string,
  timeZone?: string,
): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  try {
    return new Intl.DateTimeFormat(lang, {
      dateStyle: 'medium',
      timeStyle: 'short',
      timeZone,
    }).format(d);
  } catch {
    return d.toISOString();
  }
}
