import { describe, expect, it } from 'vitest';
import { ActorStore } from './store';
import type { ActorName } from './api';

const named = (subject: string, name: string | null): ActorName => ({ subject, kind: 'staff', name: name ?? undefined });

describe('actor names', () => {
  it('resolves what lists ask for in one request and tells them', async () => {
    const calls: string[][] = [];
    let run: (() => void) | undefined;
    const store = new ActorStore(
      async (subjects) => {
        calls.push(subjects);
        return subjects.map((s) => named(s, s === 'staff:1' ? '前台小李' : null));
      },
      (f) => (run = f),
    );
    let told = 0;
    store.subscribe(() => (told += 1));
    expect(store.get('staff:1')).toBeUndefined();
    expect(store.get('staff:2')).toBeUndefined();
    expect(store.get('staff:1')).toBeUndefined();
    await store.flush();
    expect(run).toBeDefined();
    expect(calls).toEqual([['staff:1', 'staff:2']]);
    expect(told).toBe(1);
    expect(store.get('staff:1')?.name).toBe('前台小李');
    expect(store.get('staff:2')?.name).toBeUndefined();
    expect(calls).toHaveLength(1);
  });

  it('does not ask again for actors whose resolution failed', async () => {
    let asked = 0;
    const store = new ActorStore(
      async () => {
        asked += 1;
        throw new Error('offline');
      },
      () => {},
    );
    store.get('key:9');
    await store.flush();
    expect(store.get('key:9')).toBeNull();
    expect(asked).toBe(1);
  });
});
