// Holding the member's coupons while the purchase dialog is open, without React: what the
// dialog knows of each listed code's hold, what an answer of `POST /coupons/{code}/reservations`
// makes of it, which codes to hold, renew and let go of, the book that does it for one cart
// (`CartHolds`, the calls passed in), and a cart id that works outside secure contexts too.
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

/** The calls a cart's holds make (the server's, or a test's). */
export interface HoldCalls {
  /** Holds (or holds again, extending) one code for the cart. */
  reserve: (code: string) => Promise<{ reserved_until: string }>;
  /** Lets go of one code (best effort: its failure is ignored). */
  release: (code: string) => Promise<unknown>;
}

/**
 * One cart's holds: [`sync`](CartHolds.sync) with the listed codes holds the new ones worth
 * holding and lets go of the removed ones, [`renew`](CartHolds.renew) asks again for those
 * due, [`close`](CartHolds.close) lets go of all (the dialog closed without recording),
 * [`stop`](CartHolds.stop) ends it without letting go (recorded: the purchase used them).
 * An answer that comes back for a code no longer listed, or after the end, is let go of.
 * `onChange` hears every change, with the code and its hold before and after.
 */
export class CartHolds {
  private holds: Record<string, Hold> = {};
  private readonly inFlight = new Set<string>();
  private listed: readonly string[] = [];
  private state: 'open' | 'closed' | 'stopped' = 'open';

  constructor(
    private readonly calls: HoldCalls,
    private readonly onChange: (holds: Holds, code: string, before: Hold | undefined, after: Hold | undefined) => void = () => {},
  ) {}

  /** What is known of each code's hold. */
  get current(): Holds {
    return this.holds;
  }

  /** The listed codes are these now. */
  sync(codes: readonly string[], cx: HoldContext): void {
    if (this.state !== 'open') return;
    this.listed = [...codes];
    for (const code of codesToRelease(codes, this.holds)) {
      const h = this.holds[code];
      if (h?.state === 'held' || h?.state === 'pending') this.letGo(code);
      this.put(code, undefined);
    }
    for (const code of codesToHold(codes, this.holds, cx)) this.ask(code);
  }

  /** Asks again for the holds due at `now` (see [`dueForRenewal`]). */
  renew(now: number): void {
    if (this.state !== 'open') return;
    for (const code of dueForRenewal(this.listed, this.holds, now)) this.ask(code);
  }

  /** Closed without recording: every hold let go of and forgotten. */
  close(): void {
    if (this.state !== 'open') return;
    this.state = 'closed';
    for (const code of heldCodes(this.holds)) this.letGo(code);
    this.holds = {};
  }

  /** Opened again after [`close`](CartHolds.close) (a view shown again); never after [`stop`](CartHolds.stop). */
  reopen(): void {
    if (this.state === 'closed') this.state = 'open';
  }

  /** Recorded: nothing is held, renewed or let go of any more. */
  stop(): void {
    this.state = 'stopped';
  }

  private put(code: string, hold: Hold | undefined): void {
    const before = this.holds[code];
    const next = { ...this.holds };
    if (hold) next[code] = hold;
    else delete next[code];
    this.holds = next;
    this.onChange(next, code, before, hold);
  }

  private letGo(code: string): void {
    this.calls.release(code).catch(() => undefined);
  }

  private ask(code: string): void {
    if (this.inFlight.has(code)) return;
    this.inFlight.add(code);
    if (!this.holds[code]) this.put(code, { state: 'pending' });
    const settle = (hold: Hold) => {
      this.inFlight.delete(code);
      if (this.state !== 'open' || !this.listed.includes(code)) {
        // Removed, or the cart ended, while the request was on its way.
        if (hold.state === 'held' && this.state !== 'stopped') this.letGo(code);
        if (this.holds[code]) this.put(code, undefined);
        return;
      }
      this.put(code, hold);
    };
    let asked: Promise<{ reserved_until: string }>;
    try {
      asked = this.calls.reserve(code);
    } catch (err) {
      asked = Promise.reject(err);
    }
    asked.then(
      (r) => settle(holdOutcome(r)),
      (err: unknown) => settle(holdOutcome(undefined, err)),
    );
  }
}

/** A random UUID (v4): `crypto.randomUUID` where the page is a secure context, else from random bytes. */
export function newCartId(c: Pick<Crypto, 'getRandomValues'> & Partial<Pick<Crypto, 'randomUUID'>> = crypto): string {
  if (typeof c.randomUUID === 'function') return c.randomUUID();
  const b = c.getRandomValues(new Uint8Array(16));
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
