import { describe, expect, it } from 'vitest';
import { FIRST_PAGE, loadColumns, nextPage, pageCount, previousPage, saveColumns, sortFromHeader, withTag } from './list';

describe('member list paging', () => {
  it('walks forward with each cursor and back through the ones seen', () => {
    const two = nextPage(FIRST_PAGE, 'c1');
    const three = nextPage(two, 'c2');
    expect(three).toEqual({ cursors: [undefined, 'c1', 'c2'], index: 2 });
    const back = previousPage(three);
    expect(back.cursors[back.index]).toBe('c1');
    // Forward again from an earlier page forgets pages after it, which may have changed.
    expect(nextPage(previousPage(back), 'c1b')).toEqual({ cursors: [undefined, 'c1b'], index: 1 });
    expect(previousPage(FIRST_PAGE)).toBe(FIRST_PAGE);
    expect(nextPage(two, undefined)).toBe(two);
  });

  it('counts pages, one at least', () => {
    expect(pageCount(0, 50)).toBe(1);
    expect(pageCount(50, 50)).toBe(1);
    expect(pageCount(51, 50)).toBe(2);
  });
});

describe('member list sorting and columns', () => {
  it('sorts by a header and falls back to newest first', () => {
    expect(sortFromHeader('points', 'descend')).toEqual({ sort: 'points', descending: true });
    expect(sortFromHeader('name', 'ascend')).toEqual({ sort: 'name', descending: false });
    expect(sortFromHeader('points', null)).toEqual({ sort: 'created', descending: true });
    expect(sortFromHeader('status', 'ascend')).toEqual({ sort: 'created', descending: true });
  });

  it('remembers the chosen custom columns and survives junk', () => {
    const store = new Map<string, string>();
    const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) };
    saveColumns(['plan', 'expires'], storage);
    expect(loadColumns(storage)).toEqual(['plan', 'expires']);
    store.set('patron.members.columns', '{oops');
    expect(loadColumns(storage)).toEqual([]);
  });

  it('adds a tag once', () => {
    expect(withTag(['vip'], ' 早鸟 ')).toEqual(['vip', '早鸟']);
    expect(withTag(['vip'], 'vip')).toEqual(['vip']);
    expect(withTag(['vip'], '  ')).toEqual(['vip']);
  });
});
