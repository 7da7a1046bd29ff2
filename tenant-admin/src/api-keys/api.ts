// API keys: the calls of the integration keys capability and its query keys. List, create
// (the key is shown once) and revoke. Pages use these with react-query; nothing else calls
// the client for API keys.
import { api, call, type Schemas } from '../api/client';

export const apiKeysKeys = {
  all: ['api-keys'] as const,
  list: () => [...apiKeysKeys.all] as const,
};

export const fetchApiKeys = () => call(api.GET('/api-keys'));

export const createApiKey = (body: Schemas['NewApiKey']) => call(api.POST('/api-keys', { body }));

export const revokeApiKey = (id: string) => call(api.DELETE('/api-keys/{id}', { params: { path: { id } } }));
