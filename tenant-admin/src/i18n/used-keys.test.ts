import { describe, expect, it } from 'vitest';
import { english as en, zh } from './resources';

// Every source file of the console, as text (Vite's glob import, so no Node types needed).
const sources = import.meta.glob(['../**/*.ts', '../**/*.tsx', '!../**/*.test.ts', '!../**/*.d.ts'], {
  query: '?raw',
  import: 'default',
  eager: true,
}) as Record<string, string>;

function has(tree: unknown, key: string): boolean {
  let node: unknown = tree;
  for (const part of key.split('.')) {
    if (node === null || typeof node !== 'object' || !(part in node)) return false;
    node = (node as Record<string, unknown>)[part];
  }
  return typeof node === 'string';
}

describe('translation keys used in the code', () => {
  // Literal keys: t('nav.staff'), label: 'nav.staff' in the navigation table.
  const used = new Set<string>();
  for (const text of Object.values(sources)) {
    for (const m of text.matchAll(/\bt\(\s*'([A-Za-z0-9_.-]+)'/g)) used.add(m[1]!);
    for (const m of text.matchAll(/\blabel: '([a-z]+\.[A-Za-z0-9_.]+)'/g)) used.add(m[1]!);
  }

  it('finds the keys', () => {
    expect(used.size).toBeGreaterThan(100);
  });

  it('exist in both languages', () => {
    const missing = [...used].filter((k) => !has(zh, k) || !has(en, k));
    expect(missing).toEqual([]);
  });
});
