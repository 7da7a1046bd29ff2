// Holding the member's coupons while the purchase dialog is open, without React: what the
// dialog knows of each listed code's hold, what an answer of `POST /coupons/{code}/reservations`
// makes of it, which holds to renew, and a cart id that works outside secure contexts too.
import { ApiProblem } from '../api/errors';

/** How long each hold lasts, in minutes (the server takes 1 to 60). */
export const HOLD_MINUTES = 10;
/** A hold with less than this left is renewed (so every five minutes or so). */
export const RENEW_BEFORE_MS = 5 * 60_000;
/** How often the dialog looks for holds to renew (and retries the ones it could not make). */
export const RENEW_EVERY_MS = 60_000;

/** What the dialog knows of one code's hold. */
export type Hold =
  /** Asked for, no answer yet. */
  | { state: 'pending' }
  /** Held for this cart until then. */
  | { state: 'held'; until: string }
  /** Held by another cart (another till) until then. */
  | { state: 'taken'; until?: string }
  /** Not a coupon that can be held: not an issued coupon (a public code: 404), used, voided, expired. */
  | { state: 'none'; reason?: string }
  /** The request failed (network, permission): tried again at the next renewal. */
  | { state: 'failed' };

export type Holds = Readonly<Record<string, Hold>>;

/** What an answer (or a refusal) of `reserveCoupon` makes of a code's hold. */
export function holdOutcome(answer: { reserved_until: string } | undefined, err?: unknown): Hold {
  if (answer) return { state: 'held', until: answer.reserved_until };
  if (err instanceof ApiProblem) {
    if (err.code === 'coupon_reserved') {
      const until = err.params.until;
      return typeof until === 'string' ? { state: 'taken', until } : { state: 'taken' };
    }
    if (err.code === 'coupon_not_reservable') {
      const reason = err.params.reason;
      return typeof reason === 'string' ? { state: 'none', reason } : { state: 'none' };
    }
    if (err.status === 404) return { state: 'none' };
  }
  return { state: 'failed' };
}

/**
 * Reasons a code gives at the check that say it is no coupon to hold: unknown, used, voided,
 * expired, another member's, or a business's public code (which gives a new coupon at the
 * purchase and is never held).
 */
const NOT_HOLDABLE = new Set(['unknown_code', 'duplicate', 'other_member', 'used', 'voided', 'expired', 'sold_out', 'day_limit', 'unavailable']);

/** What the dialog knows of the listed codes, to decide which to hold. */
export interface HoldContext {
  /** The member's usable coupons' codes (held as soon as they are listed). */
  own: ReadonlySet<string>;
  /** The business's public codes (never held); undefined while not known. */
  shared?: ReadonlySet<string>;
  /** The check's answer for a code, when there is one. */
  reason: (code: string) => { applied: boolean; reason?: string | null } | undefined;
}

/**
 * Whether to ask the server to hold a listed code: the member's own usable coupons at once;
 * another code (a batch's paper coupon) once the check shows it is a coupon that could be
 * used and the business's public codes are known not to include it. Never a code the check
 * refused as unknown, used, expired or another member's, so the dialog does not ask for
 * what the server can only refuse.
 */
export function shouldHold(code: string, cx: HoldContext): boolean {
  const r = cx.reason(code);
  if (r && !r.applied && NOT_HOLDABLE.has(r.reason ?? '')) return false;
  if (cx.own.has(code)) return true;
  if (!r || !cx.shared || cx.shared.has(code)) return false;
  return true;
}

/** The listed codes to hold now: not asked for yet, and worth holding. */
export const codesToHold = (codes: readonly string[], holds: Holds, cx: HoldContext): string[] =>
  codes.filter((c) => !(c in holds) && shouldHold(c, cx));

/** The codes the dialog asked to hold that are no longer listed (to let go of, and forget). */
export const codesToRelease = (codes: readonly string[], holds: Holds): string[] =>
  Object.keys(holds).filter((c) => !codes.includes(c));

/**
 * The listed codes to ask for again at `now`: those held for this cart with less than
 * [`RENEW_BEFORE_MS`] left, those another cart held (it may have let go) and those whose
 * request failed. Codes that cannot be held and requests on their way are left alone.
 */
export function dueForRenewal(codes: readonly string[], holds: Holds, now: number): string[] {
  return codes.filter((c) => {
    const h = holds[c];
    if (!h) return false;
    if (h.state === 'held') return Date.parse(h.until) - now < RENEW_BEFORE_MS;
    return h.state === 'taken' || h.state === 'failed';
  });
}

/** The codes this cart holds (or may hold: a request on its way), to let go of when it closes. */
export const heldCodes = (holds: Holds): string[] =>
  Object.entries(holds)
    .filter(([, h]) => h.state === 'held' || h.state === 'pending')
    .map(([c]) => c);

/** A random UUID (v4): `crypto.randomUUID` where the page is a secure context, else from random bytes. */
export function newCartId(c: Pick<Crypto, 'getRandomValues'> & Partial<Pick<Crypto, 'randomUUID'>> = crypto): string {
  if (typeof c.randomUUID === 'function') return c.randomUUID();
  const b = c.getRandomValues(new Uint8Array(16));
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
