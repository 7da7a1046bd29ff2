// Roles: the calls of the roles capability and its query keys. The roles (built-in and
// custom) with their permissions, and the permissions there are. Pages use these with
// react-query; nothing else calls the client for roles.
import { api, call, type Schemas } from '../api/client';

export const rolesKeys = {
  all: ['roles'] as const,
  list: () => [...rolesKeys.all] as const,
  /** The permissions there are (fixed by the server: never stale). */
  permissions: () => ['permissions'] as const,
};

export const fetchRoles = () => call(api.GET('/roles'));

export const fetchPermissions = () => call(api.GET('/permissions'));

export const createRole = (body: Schemas['NewRole']) => call(api.POST('/roles', { body }));

export const updateRole = (name: string, change: Schemas['RoleChange']) =>
  call(api.PATCH('/roles/{name}', { params: { path: { name } }, body: change }));

export const deleteRole = (name: string) => call(api.DELETE('/roles/{name}', { params: { path: { name } } }));
