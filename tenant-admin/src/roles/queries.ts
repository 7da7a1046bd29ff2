// The roles and permissions as shared queries (the roles page, staff, and anywhere a role
// is named), and how roles and permissions read in the console's language.
import { useQuery } from '@tanstack/react-query';
import type { TFunction } from 'i18next';
import type { Schemas } from '../api/client';
import { fetchPermissions, fetchRoles, rolesKeys } from './api';

export type Role = Schemas['RoleView'];
export type PermissionInfo = Schemas['PermissionView'];

export function useRoles(enabled = true) {
  return useQuery({ queryKey: rolesKeys.list(), queryFn: fetchRoles, enabled });
}

export function usePermissions() {
  return useQuery({
    queryKey: rolesKeys.permissions(),
    queryFn: fetchPermissions,
    staleTime: Infinity,
  });
}

const BUILTIN = ['owner', 'manager', 'front_desk', 'marketer'];

/**
 * A role's display name: built-in roles are translated; a custom one goes by the name it was
 * given (「晚班组长」; for a role made before roles had names, its short description) when
 * `roles` holds it, else by its code.
 */
export function roleLabel(t: TFunction, name: string, roles?: readonly Role[]): string {
  if (BUILTIN.includes(name)) return t(`roles.builtinNames.${name}`);
  const role = roles?.find((r) => r.name === name);
  const named = role?.display_name?.trim();
  if (named) return named;
  const given = role?.description.trim();
  return given && given.length <= MAX_ROLE_NAME ? given : name;
}

/** Longest description still read as a role's name. */
export const MAX_ROLE_NAME = 40;

/** A permission's description in the console's language, the server's text otherwise. */
export function permissionText(t: TFunction, p: PermissionInfo): string {
  return t(`permissions.${p.name.replace(':', '.')}`, { defaultValue: p.description });
}
