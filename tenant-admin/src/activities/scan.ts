// The pure part of scanning check-in codes with the camera: finding the code in what a QR
// code says, and not checking the same person in twice when the camera reads their code on
// several frames in a row.

/**
 * The check-in code in a QR code's text, upper-cased, or `undefined` when there is none.
 * The member's portal shows `AC` and 16 characters of Crockford's base 32 (no I, L, O or U);
 * the code may also come inside a longer text (a link), so it is searched for, as a word.
 */
export function extractCode(text: string): string | undefined {
  const m = /(?:^|[^0-9A-Z])(AC[0-9A-HJKMNP-TV-Z]{16})(?![0-9A-Z])/i.exec(text.trim());
  return m ? m[1]!.toUpperCase() : undefined;
}

/** How long the same text read again is taken for the same person still in front of the camera. */
export const REPEAT_MS = 4_000;

/**
 * Remembers what was read lately: `accept(text, now)` is true the first time a text is read,
 * and false while it is read again within `windowMs` of the last read (each read extends the
 * window, so a code held in front of the camera is taken once).
 */
export function createRepeatFilter(windowMs = REPEAT_MS) {
  const seen = new Map<string, number>();
  return {
    accept(text: string, now: number): boolean {
      for (const [k, at] of seen) if (now - at >= windowMs) seen.delete(k);
      const fresh = !seen.has(text);
      seen.set(text, now);
      return fresh;
    },
    /** Forgets a text, so it is taken again at once (after a failed request, say). */
    forget(text: string) {
      seen.delete(text);
    },
  };
}

/** Why the camera cannot be used. */
export type CameraProblem = 'denied' | 'none' | 'insecure' | 'busy';

/** [`CameraProblem`] from the error `getUserMedia` threw (a `DOMException`, by its name). */
export function cameraProblem(err: unknown): CameraProblem {
  const name = typeof err === 'object' && err !== null && 'name' in err ? String(err.name) : '';
  if (name === 'NotAllowedError' || name === 'SecurityError' || name === 'PermissionDeniedError') return 'denied';
  if (name === 'NotReadableError' || name === 'TrackStartError' || name === 'AbortError') return 'busy';
  return 'none';
}
