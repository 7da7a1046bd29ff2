// The console's side navigation: each entry names the permission that unlocks it, so the
// menu shows only what the caller can open. Entries come in groups, in the order a shop
// works: its members first, then what brings them back (points, tiers, rules), then the
// shop's settings, and the account (plan, roles, API keys) last.
import type { ComponentType } from 'react';
import {
  AccountBookOutlined,
  ApiOutlined,
  AuditOutlined,
  CalendarOutlined,
  ClusterOutlined,
  CommentOutlined,
  CrownOutlined,
  CreditCardOutlined,
  DashboardOutlined,
  FormOutlined,
  GiftOutlined,
  IdcardOutlined,
  MailOutlined,
  NotificationOutlined,
  QrcodeOutlined,
  SafetyOutlined,
  SendOutlined,
  SettingOutlined,
  ShopOutlined,
  ShoppingOutlined,
  SoundOutlined,
  TeamOutlined,
  TagsOutlined,
  ThunderboltOutlined,
  WalletOutlined,
} from '@ant-design/icons';

/** The menu's groups, in order; each has its label under `nav.groups.<group>`. */
export const NAV_GROUPS = ['members', 'marketing', 'shop', 'account'] as const;
export type NavGroup = (typeof NAV_GROUPS)[number];

export interface NavEntry {
  /** Route path, also the menu key. */
  path: string;
  /** i18n key of the label. */
  label: string;
  /** Any one of these permissions unlocks the entry. */
  anyOf: readonly string[];
  /** The menu group the entry is shown in. */
  group: NavGroup;
  /** The entry's icon. */
  icon: ComponentType;
}

export const NAV: readonly NavEntry[] = [
  { path: '/dashboard', label: 'nav.dashboard', anyOf: ['reports:read'], group: 'members', icon: DashboardOutlined },
  { path: '/desk', label: 'nav.desk', anyOf: ['purchases:write'], group: 'members', icon: ShopOutlined },
  { path: '/members', label: 'nav.members', anyOf: ['members:read'], group: 'members', icon: IdcardOutlined },
  { path: '/conversations', label: 'conversations.nav', anyOf: ['members:read'], group: 'members', icon: CommentOutlined },
  { path: '/charges', label: 'prepaid.charges.nav', anyOf: ['reports:read'], group: 'members', icon: AccountBookOutlined },
  {
    path: '/points-settings',
    label: 'nav.pointsSettings',
    anyOf: ['settings:read', 'settings:manage'],
    group: 'marketing',
    icon: GiftOutlined,
  },
  { path: '/tiers', label: 'nav.tiers', anyOf: ['members:read', 'tiers:write'], group: 'marketing', icon: CrownOutlined },
  { path: '/rules', label: 'nav.rules', anyOf: ['rules:read'], group: 'marketing', icon: ThunderboltOutlined },
  { path: '/coupons', label: 'coupons.nav', anyOf: ['members:read', 'rewards:manage'], group: 'marketing', icon: TagsOutlined },
  { path: '/promotions', label: 'promotions.nav', anyOf: ['members:read', 'rewards:manage'], group: 'marketing', icon: SoundOutlined },
  { path: '/mall', label: 'mall.nav', anyOf: ['members:read', 'purchases:write'], group: 'marketing', icon: ShoppingOutlined },
  { path: '/activities', label: 'activities.nav', anyOf: ['members:read'], group: 'marketing', icon: CalendarOutlined },
  { path: '/segments', label: 'segments.nav', anyOf: ['members:read'], group: 'marketing', icon: ClusterOutlined },
  { path: '/campaigns', label: 'campaigns.nav', anyOf: ['campaigns:manage'], group: 'marketing', icon: SendOutlined },
  { path: '/notices', label: 'notices.nav', anyOf: ['campaigns:manage'], group: 'marketing', icon: NotificationOutlined },
  { path: '/messages', label: 'messages.nav', anyOf: ['campaigns:manage', 'settings:manage'], group: 'marketing', icon: MailOutlined },
  { path: '/prepaid', label: 'prepaid.nav', anyOf: ['members:read', 'settings:manage'], group: 'shop', icon: WalletOutlined },
  { path: '/portal-site', label: 'portalSite.nav', anyOf: ['settings:read', 'settings:manage'], group: 'shop', icon: QrcodeOutlined },
  { path: '/settings', label: 'nav.settings', anyOf: ['settings:read', 'settings:manage'], group: 'shop', icon: SettingOutlined },
  { path: '/fields', label: 'nav.fields', anyOf: ['fields:manage'], group: 'shop', icon: FormOutlined },
  { path: '/staff', label: 'nav.staff', anyOf: ['staff:read'], group: 'shop', icon: TeamOutlined },
  { path: '/audit-log', label: 'nav.auditLog', anyOf: ['staff:manage'], group: 'shop', icon: AuditOutlined },
  { path: '/plan', label: 'nav.plan', anyOf: ['settings:read', 'settings:manage'], group: 'account', icon: CreditCardOutlined },
  { path: '/roles', label: 'nav.roles', anyOf: ['staff:read'], group: 'account', icon: SafetyOutlined },
  { path: '/api-keys', label: 'nav.apiKeys', anyOf: ['api_keys:manage'], group: 'account', icon: ApiOutlined },
];

export function can(perms: readonly string[], ...anyOf: string[]): boolean {
  return anyOf.some((p) => perms.includes(p));
}

export function visibleNav(perms: readonly string[], nav: readonly NavEntry[] = NAV): NavEntry[] {
  return nav.filter((e) => can(perms, ...e.anyOf));
}

/** The visible entries by group, in menu order; groups left empty are left out. */
export function groupedNav(
  perms: readonly string[],
  nav: readonly NavEntry[] = NAV,
): { group: NavGroup; entries: NavEntry[] }[] {
  const visible = visibleNav(perms, nav);
  return NAV_GROUPS.map((group) => ({ group, entries: visible.filter((e) => e.group === group) })).filter(
    (g) => g.entries.length > 0,
  );
}

/**
 * Where to land after login: the desk for whoever records purchases and does not read the
 * business's reports (the counter staff; owners and managers keep the dashboard), else the
 * first page the caller may open, if any.
 */
export function homePath(perms: readonly string[]): string | undefined {
  if (can(perms, 'purchases:write') && !can(perms, 'reports:read')) return '/desk';
  return groupedNav(perms)[0]?.entries[0]?.path;
}

/** The menu entry a location belongs to (`/staff/123` -> `/staff`). */
export function activeEntry(pathname: string, nav: readonly NavEntry[] = NAV): string | undefined {
  return nav
    .filter((e) => pathname === e.path || pathname.startsWith(`${e.path}/`))
    .sort((a, b) => b.path.length - a.path.length)[0]?.path;
}
