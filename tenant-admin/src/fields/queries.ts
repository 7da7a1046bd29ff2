import { useQuery } from '@tanstack/react-query';
import { api, call, type Schemas } from '../api/client';

export type FieldsView = Schemas['FieldsView'];

/** The field schema in force (custom fields, archived ones, built-ins, the two schemas). */
export function useFields(enabled = true) {
  return useQuery({ queryKey: ['fields'], queryFn: () => call(api.GET('/fields')), enabled, staleTime: 30_000 });
}
