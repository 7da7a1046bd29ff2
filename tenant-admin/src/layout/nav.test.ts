import { describe, expect, it } from 'vitest';
import { activeEntry, homePath, visibleNav } from './nav';

describe('navigation by permission', () => {
  it('shows everything to an owner-like caller', () => {
    const all = ['staff:read', 'staff:manage', 'api_keys:manage', 'settings:read'];
    expect(visibleNav(all).map((e) => e.path)).toEqual([
      '/staff',
      '/roles',
      '/api-keys',
      '/settings',
      '/audit-log',
      '/plan',
      '/points-settings',
    ]);
  });

  it('hides what the caller cannot open', () => {
    expect(visibleNav(['settings:read']).map((e) => e.path)).toEqual(['/settings', '/plan', '/points-settings']);
    expect(visibleNav(['rules:read']).map((e) => e.path)).toEqual(['/rules']);
    expect(visibleNav([])).toEqual([]);
  });

  it('lands on the first page the caller may open', () => {
    expect(homePath(['api_keys:manage', 'settings:read'])).toBe('/api-keys');
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
