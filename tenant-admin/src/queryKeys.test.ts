// The query keys of every capability's api.ts: each invalidation after a write must match
// the queries it means to refresh (react-query matches by prefix), and the keys keep the
// shapes the console has always cached under.
import { describe, expect, it } from 'vitest';
import { partialMatchKey, type QueryKey } from '@tanstack/react-query';
import { apiKeysKeys } from './api-keys/api';
import { sessionKeys } from './auth/api';
import { dashboardKeys } from './dashboard/api';
import { fieldsKeys } from './fields/api';
import { membersKeys } from './members/api';
import { opsKeys } from './ops/api';
import { planKeys } from './plan/api';
import { pointsKeys } from './points/api';
import { portalKeys } from './portal/api';
import { rolesKeys } from './roles/api';
import { rulesKeys } from './rules/api';
import { settingsKeys } from './settings/api';
import { staffKeys } from './staff/api';
import { tiersKeys } from './tiers/api';

/** Would invalidating `filter` refresh the query under `key`? */
const refreshes = (filter: QueryKey, key: QueryKey) => partialMatchKey(key, filter);

const search = { sort: 'joined_desc' } as never;

describe('query keys', () => {
  it('keep the shapes the console has cached under', () => {
    expect(membersKeys.search(search)).toEqual(['members', 'search', search]);
    expect(membersKeys.detail('m1')).toEqual(['members', 'm1']);
    expect(membersKeys.cards('m1')).toEqual(['members', 'm1', 'cards']);
    expect(membersKeys.audit('m1')).toEqual(['members', 'm1', 'audit']);
    expect(membersKeys.import('i1')).toEqual(['member-imports', 'i1']);
    expect(pointsKeys.entries('m1', undefined)).toEqual(['points', 'm1', 'entries', undefined]);
    expect(pointsKeys.settings()).toEqual(['points', 'settings']);
    expect(tiersKeys.member('m1')).toEqual(['tiers', 'member', 'm1']);
    expect(rulesKeys.versions('purchase')).toEqual(['rules', 'purchase', 'versions']);
    expect(sessionKeys.me('tok')).toEqual(['me', 'tok']);
    expect(opsKeys.tenants('', undefined, 'active')).toEqual(['ops', 'tenants', '', undefined, 'active']);
    expect(portalKeys.tier('shop', 'tok')).toEqual(['portal', 'shop', 'tier', 'tok']);
    expect([fieldsKeys.current(), staffKeys.list(), rolesKeys.list(), rolesKeys.permissions()]).toEqual([
      ['fields'],
      ['staff'],
      ['roles'],
      ['permissions'],
    ]);
    expect([apiKeysKeys.list(), settingsKeys.current(), settingsKeys.auditLog(), dashboardKeys.overview()]).toEqual([
      ['api-keys'],
      ['settings'],
      ['audit-log'],
      ['dashboard'],
    ]);
    expect([planKeys.mine(), planKeys.catalogue(), planKeys.invoices()]).toEqual([['plan'], ['plans'], ['invoices']]);
  });

  it('refresh a member everywhere it shows after a change', () => {
    // Registering a member or publishing fields: every member query.
    for (const key of [membersKeys.search(search), membersKeys.detail('m1'), membersKeys.cards('m1'), membersKeys.audit('m1')]) {
      expect(refreshes(membersKeys.all, key)).toBe(true);
    }
    // A profile saved or a member erased: the searches; a card change: the member and cards.
    expect(refreshes(membersKeys.searches(), membersKeys.search(search))).toBe(true);
    expect(refreshes(membersKeys.searches(), membersKeys.detail('m1'))).toBe(false);
    expect(refreshes(membersKeys.detail('m1'), membersKeys.cards('m1'))).toBe(true);
    expect(refreshes(membersKeys.detail('m1'), membersKeys.detail('m2'))).toBe(false);
    // An import job is not a member query: member changes do not poll it again.
    expect(refreshes(membersKeys.all, membersKeys.import('i1'))).toBe(false);
  });

  it("refresh a member's points, every page, after an adjustment or a redemption", () => {
    for (const key of [
      pointsKeys.summary('m1'),
      pointsKeys.entries('m1', undefined),
      pointsKeys.entries('m1', 42),
      pointsKeys.purchases('m1', 'p9'),
    ]) {
      expect(refreshes(pointsKeys.member('m1'), key)).toBe(true);
    }
    expect(refreshes(pointsKeys.member('m1'), pointsKeys.summary('m2'))).toBe(false);
  });

  it('refresh the rules, tiers, session and operator views their writes change', () => {
    expect(refreshes(rulesKeys.overview(), rulesKeys.overview())).toBe(true);
    expect(refreshes(rulesKeys.versions('purchase'), rulesKeys.versions('purchase'))).toBe(true);
    expect(refreshes(tiersKeys.overview(), tiersKeys.versions())).toBe(false);
    expect(refreshes(sessionKeys.all, sessionKeys.me('tok'))).toBe(true);
    expect(refreshes(sessionKeys.all, sessionKeys.me(null))).toBe(true);
    for (const key of [opsKeys.me('tok'), opsKeys.plans(), opsKeys.tenants('q', 'pro', undefined), opsKeys.totals()]) {
      expect(refreshes(opsKeys.all, key)).toBe(true);
    }
    expect(refreshes(staffKeys.all, staffKeys.list())).toBe(true);
    expect(refreshes(rolesKeys.all, rolesKeys.list())).toBe(true);
    expect(refreshes(apiKeysKeys.all, apiKeysKeys.list())).toBe(true);
  });

  it("keep a portal business's data under it, so signing out drops exactly that", () => {
    const keys = [
      portalKeys.form('shop'),
      portalKeys.me('shop', 'tok'),
      portalKeys.points('shop', 'tok'),
      portalKeys.entries('shop', 'tok'),
      portalKeys.tier('shop', 'tok'),
    ];
    for (const key of keys) {
      expect(refreshes(portalKeys.business('shop'), key)).toBe(true);
      expect(refreshes(portalKeys.business('other'), key)).toBe(false);
    }
    // A check-in refreshes the points and the entries.
    expect(refreshes(portalKeys.allPoints('shop'), portalKeys.points('shop', 'tok'))).toBe(true);
    expect(refreshes(portalKeys.allEntries('shop'), portalKeys.entries('shop', 'tok'))).toBe(true);
  });
});
