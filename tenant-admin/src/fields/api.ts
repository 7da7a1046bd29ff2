// Fields: the calls of the member fields capability and its query keys. The field schema
// in force, checking a draft (problems and which members it would affect), and publishing
// a new version. Pages use these with react-query; nothing else calls the client for fields.
import { api, call, type Schemas } from '../api/client';

export const fieldsKeys = {
  all: ['fields'] as const,
  /** The field schema in force. */
  current: () => [...fieldsKeys.all] as const,
};

export const fetchFields = () => call(api.GET('/fields'));

export const validateFields = (draft: Schemas['FieldsDraft']) => call(api.POST('/fields/validate', { body: draft }));

export const publishFields = (draft: Schemas['FieldsDraft']) => call(api.POST('/fields/versions', { body: draft }));
