import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';
import { ApiProblem, type Problem } from './errors';
import { clearOpsToken, clearToken, getOpsToken, getToken } from '../auth/token';

export type Schemas = components['schemas'];

/** Called when the server says a session is gone (401 on an authenticated call). */
let onUnauthorized: () => void = () => {};
let onOpsUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(fn: () => void): void {
  onUnauthorized = fn;
}
export function setOpsUnauthorizedHandler(fn: () => void): void {
  onOpsUnauthorized = fn;
}

/** Called when the server holds an owner to enrol two-factor codes first (403 `two_factor_setup_required`). */
let onSetupRequired: () => void = () => {};
export function setSetupRequiredHandler(fn: () => void): void {
  onSetupRequired = fn;
}

/** Operator endpoints (`/ops/...`) take the operator's token, every other one the staff's. */
export const isOps = (schemaPath: string): boolean => schemaPath.startsWith('/ops/');

const auth: Middleware = {
  onRequest({ request, schemaPath }) {
    const token = isOps(schemaPath) ? getOpsToken() : getToken();
    if (token) request.headers.set('authorization', `Bearer ${token}`);
    return request;
  },
  onResponse({ request, response, schemaPath }) {
    if (response.status === 401 && request.headers.has('authorization')) {
      if (isOps(schemaPath)) {
        clearOpsToken();
        onOpsUnauthorized();
      } else {
        clearToken();
        onUnauthorized();
      }
    }
    if (response.status === 403 && !isOps(schemaPath)) {
      void response
        .clone()
        .json()
        .then((body: { code?: unknown } | null) => {
          if (body?.code === 'two_factor_setup_required') onSetupRequired();
        })
        .catch(() => undefined);
    }
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: '/api/v1' });
api.use(auth);

/**
 * Unwraps an openapi-fetch result: the data, or an [`ApiProblem`] thrown with the server's
 * error body (`{code, message, fields}`).
 */
export async function call<T>(
  promise: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await promise;
  if (error !== undefined || !response.ok) {
    throw ApiProblem.from(response.status, error as Partial<Problem> | undefined);
  }
  return data as T;
}

/**
 * Unwraps a file download (`parseAs: 'blob'`): the file, or an [`ApiProblem`] thrown with the
 * server's error body.
 */
export async function callBlob(
  promise: Promise<{ data?: unknown; error?: unknown; response: Response }>,
): Promise<Blob> {
  const { data, error, response } = await promise;
  if (error !== undefined || !response.ok || !data) {
    throw ApiProblem.from(response.status, error as Partial<Problem> | undefined);
  }
  return data as Blob;
}
