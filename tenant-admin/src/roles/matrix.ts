// State of the permission matrix editor: which permissions each role holds, as loaded and as
// edited. Pure functions over plain data, so the editor's logic is tested without a browser.

export interface RoleLike {
  name: string;
  builtin: boolean;
  permissions: string[];
}

export interface MatrixState {
  /** Permissions per role as the server has them. */
  saved: Record<string, string[]>;
  /** Permissions per role as edited (sorted, no duplicates). */
  draft: Record<string, string[]>;
  /** Roles that may be edited (custom roles). */
  editable: string[];
}

const norm = (perms: Iterable<string>): string[] => [...new Set(perms)].sort();

export function initMatrix(roles: readonly RoleLike[]): MatrixState {
  const saved: Record<string, string[]> = {};
  for (const r of roles) saved[r.name] = norm(r.permissions);
  return {
    saved,
    draft: { ...saved },
    editable: roles.filter((r) => !r.builtin).map((r) => r.name),
  };
}

export function holds(state: MatrixState, role: string, perm: string): boolean {
  return state.draft[role]?.includes(perm) ?? false;
}

/** Sets one cell; cells of read-only roles do not change. */
export function setCell(state: MatrixState, role: string, perm: string, on: boolean): MatrixState {
  if (!state.editable.includes(role)) return state;
  const cur = state.draft[role] ?? [];
  const next = on ? norm([...cur, perm]) : cur.filter((p) => p !== perm);
  return { ...state, draft: { ...state.draft, [role]: next } };
}

export function toggleCell(state: MatrixState, role: string, perm: string): MatrixState {
  return setCell(state, role, perm, !holds(state, role, perm));
}

/** Sets several permissions of one role at once (a resource group). */
export function setMany(
  state: MatrixState,
  role: string,
  perms: readonly string[],
  on: boolean,
): MatrixState {
  return perms.reduce((s, p) => setCell(s, role, p, on), state);
}

const same = (a: readonly string[] = [], b: readonly string[] = []): boolean =>
  a.length === b.length && a.every((p, i) => p === b[i]);

/** Roles whose edited permissions differ from the saved ones, in editable order. */
export function dirtyRoles(state: MatrixState): string[] {
  return state.editable.filter((r) => !same(state.saved[r], state.draft[r]));
}

/** The PATCH bodies that save the edits. */
export function pendingChanges(state: MatrixState): { role: string; permissions: string[] }[] {
  return dirtyRoles(state).map((role) => ({ role, permissions: state.draft[role] ?? [] }));
}

/** Marks a role's draft as saved (after its PATCH succeeded). */
export function markSaved(state: MatrixState, role: string, permissions: string[]): MatrixState {
  const p = norm(permissions);
  return {
    ...state,
    saved: { ...state.saved, [role]: p },
    draft: { ...state.draft, [role]: p },
  };
}

/** Throws away the edits of one role, or of all. */
export function discard(state: MatrixState, role?: string): MatrixState {
  if (role === undefined) return { ...state, draft: { ...state.saved } };
  return { ...state, draft: { ...state.draft, [role]: state.saved[role] ?? [] } };
}

/**
 * Reloads from the server while keeping unsaved edits of roles that still exist; roles
 * that were deleted drop out, new ones come in as saved.
 */
export function rebase(state: MatrixState, roles: readonly RoleLike[]): MatrixState {
  const next = initMatrix(roles);
  for (const role of dirtyRoles(state)) {
    const draft = state.draft[role];
    if (next.editable.includes(role) && draft) next.draft[role] = draft;
  }
  return next;
}

/** Permissions grouped by resource (`members:read` -> `members`), in first-seen order. */
export function groupByResource<P extends { name: string }>(
  perms: readonly P[],
): { resource: string; items: P[] }[] {
  const groups = new Map<string, P[]>();
  for (const p of perms) {
    const resource = p.name.split(':')[0] ?? p.name;
    const list = groups.get(resource) ?? [];
    list.push(p);
    groups.set(resource, list);
  }
  return [...groups].map(([resource, items]) => ({ resource, items }));
}

/**
 * Whether the caller may give this permission to a role: the server refuses to grant
 * permissions the caller does not hold.
 */
export function grantable(perm: string, mine: readonly string[]): boolean {
  return mine.includes(perm);
}
