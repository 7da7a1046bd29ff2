import { describe, expect, it } from 'vitest';
import { fromSearch, toSearch } from './search';
import type { FieldDto } from '../fields/schema';

const f = (key: string, type: FieldDto['type']): FieldDto => ({
  key,
  type,
  label: { 'zh-CN': key, en: key },
  required: false,
  member_editable: false,
  options: [],
});
const FIELDS = [f('size', 'integer'), f('since', 'date'), f('vip', 'boolean'), f('likes', 'multi_select'), f('city', 'text')];

describe('member search', () => {
  it('sends only the conditions that were filled in', () => {
    expect(toSearch({ name: '  王 ', phone: '', tags: [' vip ', ''] }, FIELDS)).toEqual({
      sort: 'created',
      descending: false,
      name: '王',
      tags: ['vip'],
      custom: [],
      ids: [],
    });
  });

  it('turns custom conditions into ranges or equality by the field type', () => {
    const s = toSearch(
      {
        sort: 'name',
        descending: true,
        custom: [
          { field: 'size', min: 38, max: null },
          { field: 'since', from: '2026-01-01', to: '' },
          { field: 'vip', eq: 'true' },
          { field: 'likes', eq: 'yoga' },
          { field: 'city', eq: ' 上海 ' },
          { field: 'city' },
          {},
        ],
      },
      FIELDS,
    );
    expect(s.sort).toBe('name');
    expect(s.descending).toBe(true);
    expect(s.custom).toEqual([
      { field: 'size', min: 38 },
      { field: 'since', from: '2026-01-01' },
      { field: 'vip', eq: true },
      { field: 'likes', eq: ['yoga'] },
      { field: 'city', eq: '上海' },
    ]);
  });

  it('reads a saved search back into the form, which gives the same search', () => {
    const saved = toSearch(
      { name: '王', tags: ['vip'], joined_from: '2024-01-01', custom: [{ field: 'size', min: 2 }, { field: 'likes', eq: 'tea' }] },
      FIELDS,
    );
    expect(toSearch(fromSearch(saved), FIELDS)).toEqual(saved);
  });
});
