// Holds the purchase dialog's coupons for its cart while the dialog is open: each code worth
// holding is held for ten minutes under the cart's id as it is listed, renewed before it
// lapses, let go of when the clerk removes it, and all of them when the dialog closes
// without recording (or the page goes away). Best effort: a hold lapses by the clock
// anyway, and a failed request is tried again at the next renewal.
import { useEffect, useRef, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { couponKeys, releaseCoupon, reserveCoupon } from '../coupons/api';
import {
  codesToHold,
  codesToRelease,
  dueForRenewal,
  heldCodes,
  holdOutcome,
  HOLD_MINUTES,
  RENEW_EVERY_MS,
  type Hold,
  type HoldContext,
  type Holds,
} from './holds';

const letGo = (code: string, cartId: string) => void releaseCoupon(code, cartId).catch(() => undefined);

/**
 * The holds of the listed `codes` under `cartId`. While `active` is false (the purchase is
 * recorded) nothing is held, renewed or let go of any more.
 */
export function useCouponHolds(cartId: string, codes: readonly string[], cx: HoldContext, active: boolean): Holds {
  const qc = useQueryClient();
  const [holds, setHolds] = useState<Holds>({});
  // The truth, read by the timers and the clean-up (state is a copy for drawing).
  const now = useRef<Record<string, Hold>>({});
  const inFlight = useRef(new Set<string>());
  const listed = useRef(codes);
  listed.current = codes;
  const live = useRef(active);
  live.current = active;

  const put = (code: string, hold: Hold | undefined) => {
    const next = { ...now.current };
    if (hold) next[code] = hold;
    else delete next[code];
    now.current = next;
    setHolds(next);
  };

  const ask = (code: string) => {
    if (inFlight.current.has(code)) return;
    inFlight.current.add(code);
    if (!now.current[code]) put(code, { state: 'pending' });
    const settle = (hold: Hold) => {
      inFlight.current.delete(code);
      if (!live.current || !listed.current.includes(code)) {
        // Removed (or the dialog closed) while the request was on its way: let go again.
        if (hold.state === 'held') letGo(code, cartId);
        if (now.current[code]) put(code, undefined);
        return;
      }
      const before = now.current[code]?.state;
      put(code, hold);
      // The check may have been made before this answer: ask again with the hold known.
      if (before !== hold.state && (hold.state === 'held' || hold.state === 'taken')) {
        void qc.invalidateQueries({ queryKey: [...couponKeys.all, 'check'] });
      }
    };
    reserveCoupon(code, cartId, HOLD_MINUTES).then(
      (r) => settle(holdOutcome(r)),
      (err: unknown) => settle(holdOutcome(undefined, err)),
    );
  };

  // New codes held, removed ones let go of.
  useEffect(() => {
    if (!active) return;
    for (const code of codesToRelease(codes, now.current)) {
      const h = now.current[code];
      if (h?.state === 'held' || h?.state === 'pending') letGo(code, cartId);
      put(code, undefined);
    }
    for (const code of codesToHold(codes, now.current, cx)) ask(code);
  });

  // Renewed before they lapse; the ones another till held or that failed, tried again.
  useEffect(() => {
    if (!active) return;
    const id = window.setInterval(() => {
      for (const code of dueForRenewal(listed.current, now.current, Date.now())) ask(code);
    }, RENEW_EVERY_MS);
    return () => window.clearInterval(id);
    // `ask` reads refs only: the first one serves every tick.
  }, [active, cartId]);

  // Closed without recording, or the page left: every hold let go of.
  useEffect(() => {
    const releaseAll = () => {
      if (!live.current) return;
      for (const code of heldCodes(now.current)) letGo(code, cartId);
      now.current = {};
    };
    window.addEventListener('pagehide', releaseAll);
    return () => {
      window.removeEventListener('pagehide', releaseAll);
      releaseAll();
    };
  }, [cartId]);

  return holds;
}
