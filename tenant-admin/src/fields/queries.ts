// The field schema as a shared query: the field designer and the member pages read it.
import { useQuery } from '@tanstack/react-query';
import type { Schemas } from '../api/client';
import { fetchFields, fieldsKeys } from './api';

export type FieldsView = Schemas['FieldsView'];

/** The field schema in force (custom fields, archived ones, built-ins, the two schemas). */
export function useFields(enabled = true) {
  return useQuery({ queryKey: fieldsKeys.current(), queryFn: fetchFields, enabled, staleTime: 30_000 });
}
