// An activity's start and end are instants; people enter and read them as the business's
// wall-clock time (its `time_zone`), whatever zone their own computer is in.

/** The wall-clock parts of an instant in `zone`. */
function partsIn(at: Date, zone: string): Record<string, number> {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(at);
  const out: Record<string, number> = {};
  for (const p of parts) if (p.type !== 'literal') out[p.type] = Number(p.value);
  return out;
}

/** How far `zone`'s clock is ahead of UTC at `at`, in milliseconds. */
function offsetAt(at: Date, zone: string): number {
  const p = partsIn(at, zone);
  const wall = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return wall - Math.floor(at.getTime() / 1000) * 1000;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** An instant as `YYYY-MM-DDTHH:mm` on `zone`'s clock (for a `datetime-local` input). */
export function toLocalInput(iso: string | null | undefined, zone: string): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const p = partsIn(d, zone);
  return `${p.year}-${pad(p.month!)}-${pad(p.day!)}T${pad(p.hour!)}:${pad(p.minute!)}`;
}

/** `YYYY-MM-DDTHH:mm` on `zone`'s clock as an ISO instant; `undefined` when empty or unreadable. */
export function fromLocalInput(local: string | undefined, zone: string): string | undefined {
  if (!local) return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(local.trim());
  if (!m) return undefined;
  const asUtc = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!);
  // The zone's offset at the guess, then again at the corrected instant (a change of
  // daylight saving time between the two moves it).
  let at = asUtc - offsetAt(new Date(asUtc), zone);
  at = asUtc - offsetAt(new Date(at), zone);
  return new Date(at).toISOString();
}
