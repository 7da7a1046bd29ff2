import { useCallback, useState } from 'react';
import { ApiProblem } from '../api/errors';

/**
 * Page-by-page navigation over an API that pages with a `before` cursor: keeps the cursors
 * of the pages seen so far, so "newer" goes back and "older" goes on.
 */
export function useCursorPages<C>() {
  const [stack, setStack] = useState<(C | undefined)[]>([undefined]);
  const cursor = stack[stack.length - 1];
  const older = useCallback((next: C) => setStack((s) => [...s, next]), []);
  const newer = useCallback(() => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)), []);
  const first = useCallback(() => setStack([undefined]), []);
  return { cursor, page: stack.length, older, newer, first, hasNewer: stack.length > 1 };
}

/** A fresh idempotency key for one write the user starts. */
export function newIdempotencyKey(prefix: string): string {
  const rnd =
    typeof crypto !== 'undefined' && 'randomUUID' in crypto
      ? crypto.randomUUID()
      : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
  return `${prefix}-${rnd}`;
}

/**
 * The server refused the write and wrote nothing (4xx other than a conflict): a corrected
 * form is a new attempt, with a new idempotency key.
 */
export function refused(err: unknown): boolean {
  return err instanceof ApiProblem && err.status >= 400 && err.status < 500 && err.status !== 409;
}
