// The console's side navigation: each entry names the permission that unlocks it, so the
// menu shows only what the caller can open. Capabilities whose API lands later (members,
// points, tiers, dashboard) add their entry here and their route in `routes.tsx`.

export interface NavEntry {
  /** Route path, also the menu key. */
  path: string;
  /** i18n key of the label. */
  label: string;
  /** Any one of these permissions unlocks the entry. */
  anyOf: readonly string[];
}

export const NAV: readonly NavEntry[] = [
  { path: '/dashboard', label: 'nav.dashboard', anyOf: ['reports:read'] },
  { path: '/desk', label: 'nav.desk', anyOf: ['purchases:write'] },
  { path: '/staff', label: 'nav.staff', anyOf: ['staff:read'] },
  { path: '/roles', label: 'nav.roles', anyOf: ['staff:read'] },
  { path: '/api-keys', label: 'nav.apiKeys', anyOf: ['api_keys:manage'] },
  { path: '/settings', label: 'nav.settings', anyOf: ['settings:read', 'settings:manage'] },
  { path: '/audit-log', label: 'nav.auditLog', anyOf: ['staff:manage'] },
  { path: '/plan', label: 'nav.plan', anyOf: ['settings:read', 'settings:manage'] },
  { path: '/members', label: 'nav.members', anyOf: ['members:read'] },
  { path: '/fields', label: 'nav.fields', anyOf: ['fields:manage'] },
  { path: '/rules', label: 'nav.rules', anyOf: ['rules:read'] },
  { path: '/tiers', label: 'nav.tiers', anyOf: ['members:read', 'tiers:write'] },
  { path: '/points-settings', label: 'nav.pointsSettings', anyOf: ['settings:read', 'settings:manage'] },
];

export function can(perms: readonly string[], ...anyOf: string[]): boolean {
  return anyOf.some((p) => perms.includes(p));
}

export function visibleNav(perms: readonly string[], nav: readonly NavEntry[] = NAV): NavEntry[] {
  return nav.filter((e) => can(perms, ...e.anyOf));
}

/**
 * Where to land after login: the desk for whoever records purchases and does not read the
 * business's reports (the counter staff; owners and managers keep the dashboard), else the
 * first page the caller may open, if any.
 */
export function homePath(perms: readonly string[]): string | undefined {
  if (can(perms, 'purchases:write') && !can(perms, 'reports:read')) return '/desk';
  return visibleNav(perms)[0]?.path;
}

/** The menu entry a location belongs to (`/staff/123` -> `/staff`). */
export function activeEntry(pathname: string, nav: readonly NavEntry[] = NAV): string | undefined {
  return nav
    .filter((e) => pathname === e.path || pathname.startsWith(`${e.path}/`))
    .sort((a, b) => b.path.length - a.path.length)[0]?.path;
}
