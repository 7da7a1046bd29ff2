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
