// Saved segments: the calls of the segments capability and their query keys. A segment is a
// named member search (the filter the member list uses) staff save, rename, edit, delete and
// count; the member list opens one and a campaign can be sent to one.
import { api, call, type Schemas } from '../api/client';

export type Segment = Schemas['Segment'];
export type MemberSearch = Schemas['MemberSearch'];

export const segmentKeys = {
  all: ['segments'] as const,
  list: () => [...segmentKeys.all, 'list'] as const,
  detail: (id: string) => [...segmentKeys.all, id] as const,
  count: (id: string) => [...segmentKeys.all, id, 'count'] as const,
};

const path = (id: string) => ({ params: { path: { segment_id: id } } });

export const fetchSegments = () => call(api.GET('/segments'));

export const fetchSegment = (id: string) => call(api.GET('/segments/{segment_id}', path(id)));

export const countSegment = (id: string) => call(api.GET('/segments/{segment_id}/count', path(id)));

export const createSegment = (body: Schemas['NewSegment']) => call(api.POST('/segments', { body }));

export const updateSegment = (id: string, body: Schemas['SegmentChange']) =>
  call(api.PUT('/segments/{segment_id}', { ...path(id), body }));

export const deleteSegment = (id: string) => call(api.DELETE('/segments/{segment_id}', path(id)));

/** The conditions a segment keeps: the search without its order and paging. */
export function conditionsOf(s: MemberSearch): MemberSearch {
  const out: MemberSearch = { ...s, sort: 'created', descending: false };
  delete out.after;
  delete out.limit;
  return out;
}

/** The conditions of a filter that are given, as [key, value] pairs for a summary. */
export function givenConditions(s: MemberSearch): [string, string][] {
  const out: [string, string][] = [];
  for (const k of ['name', 'card_number', 'phone', 'email', 'tier', 'joined_from', 'joined_to', 'birthday_from', 'birthday_to'] as const) {
    const v = s[k];
    if (v) out.push([k, v]);
  }
  if (s.tags?.length) out.push(['tags', s.tags.join(', ')]);
  for (const c of s.custom ?? []) {
    const parts = [c.eq != null ? JSON.stringify(c.eq) : '', c.min != null || c.max != null ? `${c.min ?? ''}–${c.max ?? ''}` : '', c.from || c.to ? `${c.from ?? ''}–${c.to ?? ''}` : ''];
    out.push([`custom:${c.field}`, parts.filter(Boolean).join(' ')]);
  }
  if (s.ids?.length) out.push(['ids', String(s.ids.length)]);
  return out;
}
