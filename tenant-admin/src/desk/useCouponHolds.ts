// Holds the purchase dialog's coupons for its cart while the dialog is open (`CartHolds` in
// `holds.ts` does the bookkeeping): each code worth holding is held for ten minutes under the
// cart's id as it is listed, renewed before it lapses, let go of when the clerk removes it,
// and all of them when the dialog closes without recording (or the page goes away). Best
// effort: a hold lapses by the clock anyway, and a failed request is tried again at the next
// renewal.
import { useEffect, useRef, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { couponKeys, releaseCoupon, reserveCoupon } from '../coupons/api';
import { CartHolds, HOLD_MINUTES, RENEW_EVERY_MS, type HoldContext, type Holds } from './holds';

/**
 * The holds of the listed `codes` under `cartId`. Once `active` is false (the purchase is
 * recorded) nothing is held, renewed or let go of any more.
 */
export function useCouponHolds(cartId: string, codes: readonly string[], cx: HoldContext, active: boolean): Holds {
  const qc = useQueryClient();
  const [holds, setHolds] = useState<Holds>({});
  const book = useRef<CartHolds>();
  if (!book.current) {
    book.current = new CartHolds(
      {
        reserve: (code) => reserveCoupon(code, cartId, HOLD_MINUTES),
        release: (code) => releaseCoupon(code, cartId),
      },
      (next, _code, before, after) => {
        setHolds(next);
        // A check made before this answer would not know of it: ask again.
        if (after && before?.state !== after.state && (after.state === 'held' || after.state === 'taken')) {
          void qc.invalidateQueries({ queryKey: [...couponKeys.all, 'check'] });
        }
      },
    );
  }
  const cart = book.current;

  // Closed without recording, or the page left: every hold let go of. (Declared first, so a
  // view mounted again opens the cart before the codes are synced.)
  useEffect(() => {
    cart.reopen();
    const leave = () => cart.close();
    window.addEventListener('pagehide', leave);
    return () => {
      window.removeEventListener('pagehide', leave);
      cart.close();
    };
  }, [cart]);

  // New codes held, removed ones let go of (every render: the check's answers may make a
  // typed code worth holding).
  useEffect(() => {
    if (active) cart.sync(codes, cx);
    else cart.stop();
  });

  // Renewed before they lapse; the ones another till held or that failed, tried again.
  useEffect(() => {
    const id = window.setInterval(() => cart.renew(Date.now()), RENEW_EVERY_MS);
    return () => window.clearInterval(id);
  }, [cart]);

  return holds;
}
