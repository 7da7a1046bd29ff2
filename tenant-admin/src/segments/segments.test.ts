import { describe, expect, it } from 'vitest';
import { conditionsOf, givenConditions } from './api';

describe('segments', () => {
  it('keeps the conditions, not the order or paging', () => {
    expect(conditionsOf({ tags: ['vip'], sort: 'name', descending: true, limit: 20, after: 'x', custom: [], ids: [] })).toEqual({
      tags: ['vip'],
      sort: 'created',
      descending: false,
      custom: [],
      ids: [],
    });
  });

  it('summarises the conditions given', () => {
    expect(
      givenConditions({ name: '李', tags: ['vip', 'new'], custom: [{ field: 'age', min: 18 }], ids: [], sort: 'created', descending: false }),
    ).toEqual([
      ['name', '李'],
      ['tags', 'vip, new'],
      ['custom:age', '18–'],
    ]);
  });
});
