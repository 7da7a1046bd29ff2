import { describe, expect, it } from 'vitest';
import { mapFieldErrors } from '../api/errors';
import { isBlank, itemErrorTargets, itemsOf, lineFromItem, linesTotal, toMajor } from './items';

describe('item lines', () => {
  it('sends each filled line as an item in fen, quantity 1 when left empty, blank lines left out', () => {
    const { items, lines } = itemsOf(
      [
        { name: ' 柠檬茶 ', category: '饮品', sku: 'TEA-01', quantity: 2, price: 18.5 },
        { quantity: 1 },
        undefined,
        { name: '贝果', price: 12 },
        { sku: 'X-1', quantity: null, price: null },
      ],
      'CNY',
    );
    expect(items).toEqual([
      { sku: 'TEA-01', name: '柠檬茶', category: '饮品', quantity: 2, unit_price: 1850 },
      { sku: '', name: '贝果', category: '', quantity: 1, unit_price: 1200 },
      { sku: 'X-1', name: '', category: '', quantity: 1, unit_price: 0 },
    ]);
    expect(lines).toEqual([0, 3, 4]);
    expect(itemsOf(undefined, 'CNY')).toEqual({ items: [], lines: [] });
  });

  it('sums the priced lines times their quantities, and has no sum without a price', () => {
    expect(linesTotal([{ name: 'a', price: 18.5, quantity: 2 }, { name: 'b', price: 0.1 }, { name: 'c' }], 'CNY')).toBe(3710);
    expect(linesTotal([{ name: 'a' }, { quantity: 3 }], 'CNY')).toBeUndefined();
    expect(linesTotal([], 'CNY')).toBeUndefined();
    // 0.1 + 0.2 yuan is 30 fen, not 30.000000000000004.
    expect(linesTotal([{ price: 0.1 }, { price: 0.2 }], 'CNY')).toBe(30);
    expect(linesTotal([{ price: 500, quantity: 2 }], 'JPY')).toBe(1000);
  });

  it('reads a line as blank only when nothing is filled in (a quantity alone is the default)', () => {
    expect(isBlank({ quantity: 1 })).toBe(true);
    expect(isBlank({ name: '  ' })).toBe(true);
    expect(isBlank({ price: 0 })).toBe(false);
    expect(isBlank({ category: '饮品' })).toBe(false);
  });

  it('fills a line from a suggestion with its price in yuan, keeping the quantity typed', () => {
    const item = { sku: 'TEA-01', name: '柠檬茶', category: '饮品', unit_price: 1850 };
    expect(lineFromItem(item, 'CNY', 3)).toEqual({ name: '柠檬茶', sku: 'TEA-01', category: '饮品', price: 18.5, quantity: 3 });
    expect(lineFromItem(item, 'CNY').quantity).toBe(1);
    expect(toMajor(1850, 'CNY')).toBe(18.5);
  });

  it("puts the server's problem on items[i].field on the field of the line the item came from", () => {
    // Lines 0 and 3 were sent (1 and 2 were blank): items[1] is line 3.
    const { names, alias } = itemErrorTargets([0, 3]);
    const mapped = mapFieldErrors(
      [
        { field: 'items[1].unit_price', problem: 'too big' },
        { field: 'items[0].name', problem: 'too long' },
        { field: 'items[1]', problem: 'bad item' },
        { field: 'amount', problem: 'negative' },
      ],
      ['amount', 'items', 'store', ...names],
      alias,
    );
    expect(mapped.rest).toEqual([]);
    expect(mapped.fields).toEqual(
      expect.arrayContaining([
        { name: ['items', 3, 'price'], errors: ['too big'] },
        { name: ['items', 0, 'name'], errors: ['too long'] },
        { name: ['items', 3, 'name'], errors: ['bad item'] },
        { name: ['amount'], errors: ['negative'] },
      ]),
    );
  });
});
