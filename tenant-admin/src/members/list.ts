// The member list's paging over keyset cursors, its sort from table headers, and the
// columns a shop may add (custom fields), remembered per browser.
import type { Schemas } from '../api/client';

export type MemberRow = Schemas['MemberRow'];
export type SortBy = Schemas['SortBy'];

/** Cursors of the pages seen so far: page n (0-based) starts after `cursors[n]`. */
export interface Pages {
  cursors: (string | undefined)[];
  index: number;
}

export const FIRST_PAGE: Pages = { cursors: [undefined], index: 0 };

/** The page after the current one, once its cursor is known. */
export function nextPage(p: Pages, nextCursor: string | undefined): Pages {
  if (!nextCursor) return p;
  const cursors = p.cursors.slice(0, p.index + 1);
  cursors.push(nextCursor);
  return { cursors, index: p.index + 1 };
}

export function previousPage(p: Pages): Pages {
  return p.index === 0 ? p : { ...p, index: p.index - 1 };
}

/** How many pages `total` members make (at least one). */
export function pageCount(total: number, pageSize: number): number {
  return Math.max(1, Math.ceil(total / pageSize));
}

/** Columns the table can sort by, and the API sort each stands for. */
export const SORTABLE: Record<string, SortBy> = {
  name: 'name',
  join_date: 'join_date',
  points: 'points',
  birthday: 'birthday',
};

/** The API sort for a table header click; back to newest first when cleared. */
export function sortFromHeader(
  column: string | undefined,
  order: 'ascend' | 'descend' | null | undefined,
): { sort: SortBy; descending: boolean } {
  const sort = column ? SORTABLE[column] : undefined;
  if (!sort || !order) return { sort: 'created', descending: true };
  return { sort, descending: order === 'descend' };
}

const COLUMNS_KEY = 'patron.members.columns';

/** The custom fields shown as columns, as chosen in this browser. */
export function loadColumns(storage: Pick<Storage, 'getItem'> = localStorage): string[] {
  try {
    const v: unknown = JSON.parse(storage.getItem(COLUMNS_KEY) ?? '[]');
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

export function saveColumns(keys: string[], storage: Pick<Storage, 'setItem'> = localStorage) {
  storage.setItem(COLUMNS_KEY, JSON.stringify(keys));
}

/** The tags after adding `tag` (no duplicate). */
export function withTag(tags: readonly string[], tag: string): string[] {
  const t = tag.trim();
  return !t || tags.includes(t) ? [...tags] : [...tags, t];
}
