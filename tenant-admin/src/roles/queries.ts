import { useQuery } from '@tanstack/react-query';
import type { TFunction } from 'i18next';
import { api, call, type Schemas } from '../api/client';

export type Role = Schemas['RoleView'];
export type PermissionInfo = Schemas['PermissionView'];

export function useRoles(enabled = true) {
  return useQuery({ queryKey: ['roles'], queryFn: () => call(api.GET('/roles')), enabled });
}

export function usePermissions() {
  return useQuery({
    queryKey: ['permissions'],
    queryFn: () => call(api.GET('/permissions')),
    staleTime: Infinity,
  });
}

const BUILTIN = ['owner', 'manager', 'front_desk', 'marketer'];

/** A role's display name: built-in roles are translated, custom ones shown as named. */
export function roleLabel(t: TFunction, name: string): string {
  return BUILTIN.includes(name) ? t(`roles.builtinNames.${name}`) : name;
}

/** A permission's description in the console's language, the server's text otherwise. */
export function permissionText(t: TFunction, p: PermissionInfo): string {
  return t(`permissions.${p.name.replace(':', '.')}`, { defaultValue: p.description });
}
