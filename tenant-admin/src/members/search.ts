// The member search form's values and the API search they stand for.
import type { Schemas } from '../api/client';
import type { FieldDto } from '../fields/schema';

export type MemberSearch = Schemas['MemberSearch'];
export type SortBy = Schemas['SortBy'];

export interface CustomCondition {
  field?: string;
  eq?: unknown;
  min?: number | null;
  max?: number | null;
  from?: string;
  to?: string;
}

export interface SearchValues {
  card_number?: string;
  phone?: string;
  email?: string;
  name?: string;
  tags?: string[];
  joined_from?: string;
  joined_to?: string;
  birthday_from?: string;
  birthday_to?: string;
  custom?: CustomCondition[];
  sort?: SortBy;
  descending?: boolean;
}

const text = (v: string | undefined) => (v ?? '').trim();
const given = (v: unknown) => v !== undefined && v !== null && v !== '';

/** How a custom field is searched: by a range (numbers, dates) or by equality. */
export function conditionKind(f: FieldDto | undefined): 'number' | 'date' | 'bool' | 'select' | 'text' {
  if (!f) return 'text';
  if (f.type === 'integer' || f.type === 'decimal') return 'number';
  if (f.type === 'date') return 'date';
  if (f.type === 'boolean') return 'bool';
  if (f.type === 'single_select' || f.type === 'multi_select') return 'select';
  return 'text';
}

/** The search before any condition is given: everyone, newest first. */
export const EVERYONE: MemberSearch = { sort: 'created', descending: true, tags: [], custom: [], ids: [] };

/** The API search for the form's values; empty conditions are left out. */
export function toSearch(v: SearchValues, fields: readonly FieldDto[]): MemberSearch {
  const s: MemberSearch = { sort: v.sort ?? 'created', descending: v.descending ?? false, tags: [], custom: [], ids: [] };
  for (const k of ['card_number', 'phone', 'email', 'name', 'joined_from', 'joined_to', 'birthday_from', 'birthday_to'] as const) {
    const t = text(v[k]);
    if (t) s[k] = t;
  }
  const tags = (v.tags ?? []).map((t) => t.trim()).filter(Boolean);
  if (tags.length) s.tags = tags;
  const custom: Schemas['CustomFilter'][] = [];
  for (const c of v.custom ?? []) {
    if (!c?.field) continue;
    const f = fields.find((x) => x.key === c.field);
    const kind = conditionKind(f);
    const out: Schemas['CustomFilter'] = { field: c.field };
    if (kind === 'number') {
      if (given(c.min)) out.min = Number(c.min);
      if (given(c.max)) out.max = Number(c.max);
      if (given(c.eq)) out.eq = Number(c.eq);
    } else if (kind === 'date') {
      if (text(c.from)) out.from = text(c.from);
      if (text(c.to)) out.to = text(c.to);
      if (given(c.eq)) out.eq = c.eq;
    } else if (kind === 'bool') {
      if (given(c.eq)) out.eq = c.eq === true || c.eq === 'true';
    } else if (given(c.eq)) {
      out.eq = f?.type === 'multi_select' ? [c.eq] : typeof c.eq === 'string' ? c.eq.trim() : c.eq;
    }
    if (Object.keys(out).length > 1) custom.push(out);
  }
  s.custom = custom;
  return s;
}

/** The form's values for an API search (a saved segment opened in the list). */
export function fromSearch(s: MemberSearch): SearchValues {
  const v: SearchValues = { sort: s.sort ?? 'created', descending: s.descending ?? false };
  for (const k of ['card_number', 'phone', 'email', 'name', 'joined_from', 'joined_to', 'birthday_from', 'birthday_to'] as const) {
    const x = s[k];
    if (x) v[k] = x;
  }
  if (s.tags?.length) v.tags = [...s.tags];
  v.custom = (s.custom ?? []).map((c) => ({
    field: c.field,
    eq: Array.isArray(c.eq) ? c.eq[0] : c.eq,
    min: c.min ?? undefined,
    max: c.max ?? undefined,
    from: c.from ?? undefined,
    to: c.to ?? undefined,
  }));
  return v;
}
