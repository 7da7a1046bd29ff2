import { describe, expect, it } from 'vitest';
import { activeEntry, groupedNav, homePath, NAV, NAV_GROUPS, visibleNav } from './nav';

describe('navigation by permission', () => {
  it('shows everything to an owner-like caller, in the order a shop works', () => {
    const all = ['staff:read', 'staff:manage', 'api_keys:manage', 'settings:read'];
    expect(visibleNav(all).map((e) => e.path)).toEqual([
      '/points-settings',
      '/portal-site',
      '/settings',
      '/staff',
      '/audit-log',
      '/plan',
      '/roles',
      '/api-keys',
    ]);
  });

  it('hides what the caller cannot open', () => {
    expect(visibleNav(['settings:read']).map((e) => e.path)).toEqual(['/points-settings', '/portal-site', '/settings', '/plan']);
    expect(visibleNav(['rules:read']).map((e) => e.path)).toEqual(['/rules']);
    expect(visibleNav([])).toEqual([]);
  });

  it('groups the menu: members, marketing, the shop, the account last', () => {
    const owner = ['reports:read', 'members:read', 'rules:read', 'settings:manage', 'fields:manage', 'staff:read', 'staff:manage', 'api_keys:manage'];
    const groups = groupedNav(owner);
    expect(groups.map((g) => g.group)).toEqual(['members', 'marketing', 'shop', 'account']);
    expect(groups.map((g) => g.entries.map((e) => e.path))).toEqual([
      ['/dashboard', '/members', '/conversations', '/charges'],
      ['/points-settings', '/tiers', '/rules', '/coupons', '/promotions', '/mall', '/activities', '/segments', '/messages'],
      ['/prepaid', '/portal-site', '/settings', '/fields', '/staff', '/audit-log'],
      ['/plan', '/roles', '/api-keys'],
    ]);
    // Empty groups are left out.
    expect(groupedNav(['rules:read']).map((g) => g.group)).toEqual(['marketing']);
  });

  it('gives every entry a known group and an icon', () => {
    for (const e of NAV) {
      expect(NAV_GROUPS).toContain(e.group);
      expect(e.icon).toBeTruthy();
    }
  });

  it('lands on the first page the caller may open', () => {
    expect(homePath(['api_keys:manage', 'staff:read'])).toBe('/staff');
    expect(homePath(['members:read'])).toBe('/members');
    // The counter lands on the desk; whoever reads the reports keeps the dashboard.
    expect(homePath(['purchases:write'])).toBe('/desk');
    expect(homePath(['members:read', 'purchases:write', 'settings:read'])).toBe('/desk');
    expect(homePath(['reports:read', 'purchases:write'])).toBe('/dashboard');
  });

  it('finds the active entry for nested paths', () => {
    expect(activeEntry('/staff')).toBe('/staff');
    expect(activeEntry('/staff/abc')).toBe('/staff');
    expect(activeEntry('/staffing')).toBeUndefined();
  });
});
