// An activity's segment as the form holds it: a few of the member search's conditions,
// and the API search they stand for.
import { toSearch, type MemberSearch, type SearchValues } from '../members/search';

export type SegmentValues = SearchValues & { tier?: string };

/** The segment's conditions the form offers (the member search takes more). */
export const SEGMENT_ITEMS = ['name', 'tags', 'tier', 'joined_from', 'joined_to'] as const;

/** The segment the form's conditions stand for; none when no condition is given. */
export function segmentOf(v: SegmentValues | undefined): MemberSearch | undefined {
  if (!v) return undefined;
  const s = toSearch(v, []);
  const tier = (v.tier ?? '').trim();
  if (tier) s.tier = tier;
  const given = SEGMENT_ITEMS.some((k) => (k === 'tags' ? (s.tags ?? []).length > 0 : !!s[k]));
  return given ? s : undefined;
}

/** The conditions of a kept segment to show, in the form's order (`[condition, value]`). */
export function segmentParts(s: MemberSearch | null | undefined): [string, string][] {
  if (!s) return [];
  const out: [string, string][] = [];
  if (s.name) out.push(['name', s.name]);
  if (s.tags?.length) out.push(['tags', s.tags.join(', ')]);
  if (s.tier) out.push(['tier', s.tier]);
  if (s.joined_from) out.push(['joined_from', s.joined_from]);
  if (s.joined_to) out.push(['joined_to', s.joined_to]);
  return out;
}
