// The purchase dialog's item lines, without React: a line as the clerk fills it (price in
// yuan) to the item the server reads (price in fen), the lines' sum, a suggestion from
// `GET /desk/items` to a line, and the server's `items[i].field` problems to the line's
// form item.
import { currencyDigits, toMinor } from '../points/reasons';
import type { DeskItem } from './api';

/** One line as the clerk fills it: price in major units (yuan), quantity 1 when left empty. */
export interface ItemLine {
  name?: string;
  category?: string;
  sku?: string;
  quantity?: number | null;
  price?: number | null;
}

/** One item as `POST /purchases` and `POST /coupons/validate` read it. */
export interface LineItem {
  sku: string;
  name: string;
  category: string;
  quantity: number;
  unit_price: number;
}

/** The fields of a line, in the order they are filled (and the server names them). */
export const LINE_FIELDS = ['name', 'category', 'sku', 'quantity', 'unit_price'] as const;

const text = (s: string | undefined) => (s ?? '').trim();
const hasPrice = (l: ItemLine) => typeof l.price === 'number' && Number.isFinite(l.price);

/** A line the clerk has not filled in at all (an added line left empty is not sent). */
export const isBlank = (l: ItemLine | undefined): boolean =>
  !l || (!text(l.name) && !text(l.sku) && !text(l.category) && !hasPrice(l));

/** A line's quantity: what was typed, else 1. */
export const quantityOf = (l: ItemLine): number =>
  typeof l.quantity === 'number' && Number.isFinite(l.quantity) ? l.quantity : 1;

/**
 * The items to send, and for each the index of the line it came from (blank lines are left
 * out, so the server's `items[i]` is the line `lines[i]`).
 */
export function itemsOf(lines: readonly (ItemLine | undefined)[] | undefined, currency: string): { items: LineItem[]; lines: number[] } {
  const items: LineItem[] = [];
  const from: number[] = [];
  (lines ?? []).forEach((l, i) => {
    if (!l || isBlank(l)) return;
    items.push({
      sku: text(l.sku),
      name: text(l.name),
      category: text(l.category),
      quantity: quantityOf(l),
      unit_price: hasPrice(l) ? toMinor(l.price as number, currency) : 0,
    });
    from.push(i);
  });
  return { items, lines: from };
}

/** What the priced lines come to, in minor units; undefined while no line has a price. */
export function linesTotal(lines: readonly (ItemLine | undefined)[] | undefined, currency: string): number | undefined {
  let total: number | undefined;
  for (const l of lines ?? []) {
    if (!l || !hasPrice(l)) continue;
    total = (total ?? 0) + toMinor(l.price as number, currency) * quantityOf(l);
  }
  return total;
}

/** Minor units as the major units an amount field shows (1234 fen -> 12.34). */
export const toMajor = (minor: number, currency: string): number => minor / 10 ** currencyDigits(currency);

/** A line filled from one of the business's recent items (the clerk's quantity kept). */
export function lineFromItem(item: DeskItem, currency: string, quantity?: number | null): ItemLine {
  return {
    name: item.name,
    sku: item.sku,
    category: item.category,
    price: toMajor(item.unit_price, currency),
    quantity: quantity ?? 1,
  };
}

/**
 * Where the server's problems on items land: `items[2].unit_price` (the third item sent) on
 * the `price` of the line it came from, as `items.<line>.price` (a form list's name path).
 * Returns the form item names and the aliases for `applyServerErrors`.
 */
export function itemErrorTargets(sentFrom: readonly number[]): { names: string[]; alias: Record<string, string> } {
  const names: string[] = [];
  const alias: Record<string, string> = {};
  sentFrom.forEach((line, i) => {
    for (const field of LINE_FIELDS) {
      const name = `items.${line}.${field === 'unit_price' ? 'price' : field}`;
      names.push(name);
      // The server writes `items[0].unit_price`; the path splits on dots only.
      alias[`items[${i}].${field}`] = name;
    }
    // A problem with the whole item lands on its name.
    alias[`items[${i}]`] = `items.${line}.name`;
  });
  return { names, alias };
}
