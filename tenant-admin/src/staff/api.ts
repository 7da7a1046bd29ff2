// Staff: the calls of the staff capability and its query keys. The business's staff
// accounts: list, invite, disable or enable, and their roles. Pages use these with
// react-query; nothing else calls the client for staff.
import { api, call, type Schemas } from '../api/client';

export const staffKeys = {
  all: ['staff'] as const,
  list: () => [...staffKeys.all] as const,
};

export const fetchStaff = () => call(api.GET('/staff'));

export const createStaff = (body: Schemas['NewStaff']) => call(api.POST('/staff', { body }));

export const updateStaff = (id: string, change: Schemas['StaffChange']) =>
  call(api.PATCH('/staff/{id}', { params: { path: { id } }, body: change }));
