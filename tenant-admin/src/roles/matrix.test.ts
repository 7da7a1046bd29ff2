import { describe, expect, it } from 'vitest';
import {
  dirtyRoles,
  discard,
  grantable,
  groupByResource,
  holds,
  initMatrix,
  markSaved,
  pendingChanges,
  rebase,
  setMany,
  toggleCell,
} from './matrix';

const roles = [
  { name: 'owner', builtin: true, permissions: ['staff:read', 'roles:manage'] },
  { name: 'shift_lead', builtin: false, permissions: ['reports:read', 'staff:read'] },
  { name: 'cashier', builtin: false, permissions: [] },
];

describe('permission matrix', () => {
  it('starts clean, sorted', () => {
    const s = initMatrix(roles);
    expect(s.draft.shift_lead).toEqual(['reports:read', 'staff:read']);
    expect(s.editable).toEqual(['shift_lead', 'cashier']);
    expect(dirtyRoles(s)).toEqual([]);
  });

  it('toggles custom roles and leaves built-in ones alone', () => {
    let s = initMatrix(roles);
    s = toggleCell(s, 'owner', 'staff:read');
    expect(holds(s, 'owner', 'staff:read')).toBe(true);
    s = toggleCell(s, 'cashier', 'members:read');
    s = toggleCell(s, 'shift_lead', 'staff:read');
    expect(holds(s, 'cashier', 'members:read')).toBe(true);
    expect(holds(s, 'shift_lead', 'staff:read')).toBe(false);
    expect(dirtyRoles(s)).toEqual(['shift_lead', 'cashier']);
    expect(pendingChanges(s)).toEqual([
      { role: 'shift_lead', permissions: ['reports:read'] },
      { role: 'cashier', permissions: ['members:read'] },
    ]);
  });

  it('toggling twice is no change', () => {
    let s = initMatrix(roles);
    s = toggleCell(toggleCell(s, 'cashier', 'members:read'), 'cashier', 'members:read');
    expect(dirtyRoles(s)).toEqual([]);
  });

  it('sets a whole group and keeps the list free of duplicates', () => {
    let s = initMatrix(roles);
    s = setMany(s, 'shift_lead', ['staff:read', 'staff:manage'], true);
    expect(s.draft.shift_lead).toEqual(['reports:read', 'staff:manage', 'staff:read']);
    s = setMany(s, 'shift_lead', ['staff:read', 'staff:manage'], false);
    expect(s.draft.shift_lead).toEqual(['reports:read']);
  });

  it('saves, discards and rebases', () => {
    let s = toggleCell(initMatrix(roles), 'cashier', 'members:read');
    s = toggleCell(s, 'shift_lead', 'reports:read');
    const saved = markSaved(s, 'cashier', ['members:read']);
    expect(dirtyRoles(saved)).toEqual(['shift_lead']);
    expect(dirtyRoles(discard(saved, 'shift_lead'))).toEqual([]);
    expect(dirtyRoles(discard(s))).toEqual([]);

    // shift_lead was deleted elsewhere, cashier changed on the server, a role appeared.
    const fresh = [
      roles[0]!,
      { name: 'cashier', builtin: false, permissions: ['purchases:write'] },
      { name: 'new_one', builtin: false, permissions: [] },
    ];
    const r = rebase(s, fresh);
    expect(r.editable).toEqual(['cashier', 'new_one']);
    expect(r.saved.cashier).toEqual(['purchases:write']);
    expect(r.draft.cashier).toEqual(['members:read']); // the unsaved edit survives
    expect(r.draft.shift_lead).toBeUndefined();
  });

  it('groups permissions by resource in order', () => {
    const g = groupByResource([
      { name: 'members:read' },
      { name: 'staff:read' },
      { name: 'members:write' },
    ]);
    expect(g.map((x) => [x.resource, x.items.map((i) => i.name)])).toEqual([
      ['members', ['members:read', 'members:write']],
      ['staff', ['staff:read']],
    ]);
  });

  it('only grants what the caller holds', () => {
    expect(grantable('staff:read', ['staff:read'])).toBe(true);
    expect(grantable('roles:manage', ['staff:read'])).toBe(false);
  });
});
