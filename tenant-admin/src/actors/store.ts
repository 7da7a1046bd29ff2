// A page-wide cache of actor names. Lists ask for the actors they show as they render; the
// texts not yet known are collected for one tick and resolved in one request (at most 500 a
// time), then every list showing them renders again.
import type { ActorName } from './api';

type Resolve = (subjects: string[]) => Promise<ActorName[]>;

export const BATCH = 500;

export class ActorStore {
  private known = new Map<string, ActorName | null>();
  private queued = new Set<string>();
  private listeners = new Set<() => void>();
  private version = 0;
  private scheduled = false;

  constructor(
    private resolve: Resolve,
    private schedule: (f: () => void) => void = (f) => void setTimeout(f, 0),
  ) {}

  /** The actor's name record; `undefined` while unknown (its resolution is then queued). */
  get(subject: string): ActorName | null | undefined {
    if (this.known.has(subject)) return this.known.get(subject);
    this.queued.add(subject);
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(() => void this.flush());
    }
    return undefined;
  }

  subscribe = (listener: () => void) => {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  };

  snapshot = () => this.version;

  async flush() {
    this.scheduled = false;
    const all = [...this.queued];
    this.queued.clear();
    for (let i = 0; i < all.length; i += BATCH) {
      const part = all.slice(i, i + BATCH);
      // Marked before the answer so a failure is not asked again on every render.
      for (const s of part) this.known.set(s, null);
      try {
        for (const a of await this.resolve(part)) this.known.set(a.subject, a);
      } catch {
        // Shown as recorded; a later page load asks again.
      }
    }
    this.version += 1;
    for (const l of this.listeners) l();
  }
}
