import i18next from 'i18next';
import { describe, expect, it } from 'vitest';
import { ApiProblem } from '../api/errors';
import { clockTime, reasonText } from '../coupons/terms';
import { english, zh } from '../i18n/resources';
import {
  CartHolds,
  codesToHold,
  codesToRelease,
  dueForRenewal,
  heldCodes,
  holdOutcome,
  newCartId,
  RENEW_BEFORE_MS,
  shouldHold,
  type HoldContext,
  type Holds,
} from './holds';

const problem = (status: number, code: string, params: Record<string, unknown> = {}) =>
  new ApiProblem(status, { code, message: code, params });

const context = (over: Partial<HoldContext> = {}): HoldContext => ({
  own: new Set(['MINE-1']),
  shared: new Set(['WELCOME5']),
  reason: () => undefined,
  ...over,
});

describe('coupon holds', () => {
  it('reads what the server answered to a hold', () => {
    expect(holdOutcome({ reserved_until: '2026-12-05T10:10:00Z' })).toEqual({ state: 'held', until: '2026-12-05T10:10:00Z' });
    expect(holdOutcome(undefined, problem(409, 'coupon_reserved', { until: '2026-12-05T10:20:00Z' }))).toEqual({
      state: 'taken',
      until: '2026-12-05T10:20:00Z',
    });
    expect(holdOutcome(undefined, problem(409, 'coupon_reserved'))).toEqual({ state: 'taken' });
    expect(holdOutcome(undefined, problem(409, 'coupon_not_reservable', { reason: 'used' }))).toEqual({ state: 'none', reason: 'used' });
    // A public code, or any code that is not an issued coupon: nothing to hold.
    expect(holdOutcome(undefined, problem(404, 'not_found'))).toEqual({ state: 'none' });
    expect(holdOutcome(undefined, problem(403, 'forbidden'))).toEqual({ state: 'failed' });
    expect(holdOutcome(undefined, new TypeError('network'))).toEqual({ state: 'failed' });
  });

  it("holds the member's coupons at once, other codes once checked, never public or refused codes", () => {
    expect(shouldHold('MINE-1', context())).toBe(true);
    // A paper coupon: only once the check knows it as a coupon.
    expect(shouldHold('VIP-0001', context())).toBe(false);
    expect(shouldHold('VIP-0001', context({ reason: () => ({ applied: true }) }))).toBe(true);
    expect(shouldHold('VIP-0001', context({ reason: () => ({ applied: false, reason: 'min_spend' }) }))).toBe(true);
    expect(shouldHold('VIP-0001', context({ reason: () => ({ applied: false, reason: 'reserved' }) }))).toBe(true);
    // ... and the public codes are known.
    expect(shouldHold('VIP-0001', context({ shared: undefined, reason: () => ({ applied: true }) }))).toBe(false);
    expect(shouldHold('WELCOME5', context({ reason: () => ({ applied: true }) }))).toBe(false);
    for (const reason of ['unknown_code', 'expired', 'used', 'voided', 'other_member', 'sold_out']) {
      expect(shouldHold('MINE-1', context({ reason: () => ({ applied: false, reason }) }))).toBe(false);
    }
  });

  it('asks for new codes once, and lets go of the ones removed', () => {
    const holds: Holds = { 'MINE-1': { state: 'held', until: '2026-12-05T10:10:00Z' }, 'OLD-1': { state: 'pending' } };
    const cx = context({ own: new Set(['MINE-1', 'MINE-2']) });
    expect(codesToHold(['MINE-1', 'MINE-2', 'NOPE'], holds, cx)).toEqual(['MINE-2']);
    expect(codesToRelease(['MINE-1'], holds)).toEqual(['OLD-1']);
    expect(codesToRelease([], {})).toEqual([]);
  });

  it('renews holds close to lapsing and retries the ones it could not make', () => {
    const now = Date.parse('2026-12-05T10:00:00Z');
    const at = (ms: number) => new Date(now + ms).toISOString();
    const holds: Holds = {
      FRESH: { state: 'held', until: at(RENEW_BEFORE_MS + 60_000) },
      OLD: { state: 'held', until: at(RENEW_BEFORE_MS - 1) },
      TAKEN: { state: 'taken', until: at(60_000) },
      FAILED: { state: 'failed' },
      PUBLIC: { state: 'none' },
      ASKING: { state: 'pending' },
    };
    const listed = ['FRESH', 'OLD', 'TAKEN', 'FAILED', 'PUBLIC', 'ASKING', 'NEW'];
    expect(dueForRenewal(listed, holds, now)).toEqual(['OLD', 'TAKEN', 'FAILED']);
    // Nine minutes later the fresh one is due too; a code no longer listed never is.
    expect(dueForRenewal(['FRESH'], holds, now + 9 * 60_000)).toEqual(['FRESH']);
    expect(dueForRenewal(['NEW'], holds, now)).toEqual([]);
    expect(heldCodes(holds).sort()).toEqual(['ASKING', 'FRESH', 'OLD']);
  });

  it('makes a cart id that is a UUID, without randomUUID too', () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    expect(newCartId()).toMatch(uuid);
    const insecure = { getRandomValues: crypto.getRandomValues.bind(crypto) };
    const a = newCartId(insecure);
    expect(a).toMatch(uuid);
    expect(newCartId(insecure)).not.toBe(a);
  });
});

/** Calls whose answers the test gives, one at a time. */
function fakeCalls() {
  const asked: { code: string; answer: (until: string) => void; refuse: (err: unknown) => void }[] = [];
  const released: string[] = [];
  return {
    asked,
    released,
    calls: {
      reserve: (code: string) =>
        new Promise<{ reserved_until: string }>((resolve, reject) => {
          asked.push({ code, answer: (until) => resolve({ reserved_until: until }), refuse: reject });
        }),
      release: (code: string) => {
        released.push(code);
        return Promise.resolve();
      },
    },
  };
}
const settle = () => new Promise((r) => setTimeout(r, 0));

describe("a cart's holds", () => {
  const cx = context({ own: new Set(['A', 'B', 'C']) });

  it('holds what is listed, lets go of what is removed, and of all when closed', async () => {
    const f = fakeCalls();
    const changes: string[] = [];
    const cart = new CartHolds(f.calls, (_h, code, before, after) => changes.push(`${code}:${before?.state ?? '-'}>${after?.state ?? '-'}`));
    cart.sync(['A', 'NOPE'], cx);
    expect(f.asked.map((a) => a.code)).toEqual(['A']);
    expect(cart.current.A).toEqual({ state: 'pending' });
    f.asked[0]!.answer('2026-12-05T10:10:00Z');
    await settle();
    expect(cart.current.A).toEqual({ state: 'held', until: '2026-12-05T10:10:00Z' });
    // The same list again asks nothing; a new code is asked for once.
    cart.sync(['A', 'NOPE'], cx);
    cart.sync(['A', 'B'], cx);
    cart.sync(['A', 'B'], cx);
    expect(f.asked.map((a) => a.code)).toEqual(['A', 'B']);
    f.asked[1]!.answer('2026-12-05T10:10:00Z');
    await settle();
    cart.sync(['B'], cx);
    expect(f.released).toEqual(['A']);
    expect(Object.keys(cart.current)).toEqual(['B']);
    cart.close();
    expect(f.released).toEqual(['A', 'B']);
    expect(cart.current).toEqual({});
    // Closed: nothing more is asked.
    cart.sync(['C'], cx);
    cart.renew(Date.now() + 3_600_000);
    expect(f.asked).toHaveLength(2);
    expect(changes).toEqual(['A:->pending', 'A:pending>held', 'B:->pending', 'B:pending>held', 'A:held>-']);
  });

  it('lets go of a hold whose answer comes after the code was removed or the cart closed', async () => {
    const f = fakeCalls();
    const cart = new CartHolds(f.calls);
    cart.sync(['A', 'B'], cx);
    cart.sync(['B'], cx); // A removed while asked for
    cart.close(); // B on its way too
    expect(f.released).toEqual(['A', 'B']);
    f.asked[0]!.answer('2026-12-05T10:10:00Z');
    f.asked[1]!.answer('2026-12-05T10:10:00Z');
    await settle();
    expect(f.released).toEqual(['A', 'B', 'A', 'B']);
    expect(cart.current).toEqual({});
  });

  it('renews what is due, once at a time, and never lets go after the purchase is recorded', async () => {
    const f = fakeCalls();
    const cart = new CartHolds(f.calls);
    const now = Date.parse('2026-12-05T10:00:00Z');
    cart.sync(['A', 'B'], cx);
    f.asked[0]!.answer(new Date(now + 10 * 60_000).toISOString());
    f.asked[1]!.refuse(problem(409, 'coupon_reserved', { until: '2026-12-05T10:20:00Z' }));
    await settle();
    expect(cart.current.B).toEqual({ state: 'taken', until: '2026-12-05T10:20:00Z' });
    // A minute on: the other till's coupon is asked for again, ours is not due yet.
    cart.renew(now + 60_000);
    cart.renew(now + 61_000);
    expect(f.asked.map((a) => a.code)).toEqual(['A', 'B', 'B']);
    f.asked[2]!.answer(new Date(now + 11 * 60_000).toISOString());
    await settle();
    expect(cart.current.B?.state).toBe('held');
    // Six minutes on, ours has less than five left: renewed, and the hold moves on.
    cart.renew(now + 6 * 60_000);
    expect(f.asked.map((a) => a.code)).toEqual(['A', 'B', 'B', 'A']);
    f.asked[3]!.answer(new Date(now + 16 * 60_000).toISOString());
    await settle();
    expect(cart.current.A).toEqual({ state: 'held', until: new Date(now + 16 * 60_000).toISOString() });
    cart.stop();
    cart.close();
    cart.renew(now + 3_600_000);
    expect(f.released).toEqual([]);
    expect(f.asked).toHaveLength(4);
  });

  it('does not ask again for a code that cannot be held', async () => {
    const f = fakeCalls();
    const cart = new CartHolds(f.calls);
    cart.sync(['A', 'B'], cx);
    f.asked[0]!.refuse(problem(404, 'not_found'));
    f.asked[1]!.refuse(problem(409, 'coupon_not_reservable', { reason: 'used' }));
    await settle();
    cart.sync(['A', 'B'], cx);
    cart.renew(Date.now() + 3_600_000);
    expect(f.asked).toHaveLength(2);
    expect(cart.current).toEqual({ A: { state: 'none' }, B: { state: 'none', reason: 'used' } });
    // Removed, a code never held is not let go of.
    cart.sync([], cx);
    expect(f.released).toEqual([]);
  });

  it('opens again after a close (a view mounted twice) and holds the list again', async () => {
    const f = fakeCalls();
    const cart = new CartHolds(f.calls);
    cart.sync(['A'], cx);
    f.asked[0]!.answer('2026-12-05T10:10:00Z');
    await settle();
    cart.close();
    cart.reopen();
    cart.sync(['A'], cx);
    expect(f.asked.map((a) => a.code)).toEqual(['A', 'A']);
    cart.stop();
    cart.reopen();
    cart.sync(['A', 'B'], cx);
    expect(f.asked).toHaveLength(2);
  });
});

describe('a coupon held at another till', () => {
  it('says until when, in both languages, when the refused hold said so', async () => {
    const until = new Date(2026, 11, 5, 14, 5).toISOString();
    expect(clockTime(until)).toBe('14:05');
    expect(clockTime('not a time')).toBe('');
    for (const [lng, translation, words] of [
      ['en', english, 'Held at another till until 14:05'],
      ['zh-CN', zh, '正在其他收银台使用，保留到 14:05'],
    ] as const) {
      const i = i18next.createInstance();
      await i.init({ lng, resources: { [lng]: { translation } }, interpolation: { escapeValue: false } });
      const t = i.t.bind(i) as (k: string) => string;
      expect(reasonText(t, 'reserved', until)).toBe(words);
      expect(reasonText(t, 'reserved')).not.toContain('14:05');
      expect(reasonText(t, 'reserved')).not.toContain('coupons.reason');
      // Only the reason `reserved` reads the time.
      expect(reasonText(t, 'expired', until)).toBe(reasonText(t, 'expired'));
    }
  });
});
