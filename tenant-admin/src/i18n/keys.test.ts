import { describe, expect, it } from 'vitest';
import { english as en, zh } from './resources';

function keys(obj: unknown, prefix = ''): string[] {
  if (obj === null || typeof obj !== 'object') return [prefix];
  return Object.entries(obj as Record<string, unknown>).flatMap(([k, v]) =>
    keys(v, prefix ? `${prefix}.${k}` : k),
  );
}

describe('locales', () => {
  it('zh-CN and en have exactly the same keys', () => {
    const a = keys(zh).sort();
    const b = keys(en).sort();
    expect(a.filter((k) => !b.includes(k))).toEqual([]);
    expect(b.filter((k) => !a.includes(k))).toEqual([]);
  });

  it('has no empty strings', () => {
    const empty = (o: unknown): boolean =>
      typeof o === 'string'
        ? o.trim() === ''
        : Object.values(o as Record<string, unknown>).some(empty);
    expect(empty(zh)).toBe(false);
    expect(empty(en)).toBe(false);
  });

  it('uses the same interpolation variables in both languages', () => {
    const vars = (s: string) => [...s.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort();
    const flat = (o: unknown, p = ''): [string, string][] =>
      typeof o === 'string'
        ? [[p, o]]
        : Object.entries(o as Record<string, unknown>).flatMap(([k, v]) =>
            flat(v, p ? `${p}.${k}` : k),
          );
    const zhMap = new Map(flat(zh));
    for (const [k, v] of flat(en)) {
      expect(vars(zhMap.get(k) ?? ''), k).toEqual(vars(v));
    }
  });
});
