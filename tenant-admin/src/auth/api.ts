// Auth: the calls of the staff session and its query key. Logging in and out, who the
// signed-in staff member is (with their business and permissions), and changing one's
// password. Nothing else calls the client for the session.
import { api, call, type Schemas } from '../api/client';

export const sessionKeys = {
  /** Who we are, whichever session (invalidated when permissions or the plan change). */
  all: ['me'] as const,
  me: (token: string | null) => [...sessionKeys.all, token] as const,
};

export const login = (body: Schemas['LoginRequest']) => call(api.POST('/auth/login', { body }));

export const logout = () => call(api.POST('/auth/logout'));

export const fetchMe = () => call(api.GET('/me'));

export const changePassword = (body: Schemas['PasswordChange']) => call(api.POST('/auth/password', { body }));

export const requestPasswordReset = (body: Schemas['PasswordResetRequest']) =>
  call(api.POST('/auth/password-reset', { body }));

export const confirmPasswordReset = (body: Schemas['PasswordResetConfirm']) =>
  call(api.POST('/auth/password-reset/confirm', { body }));
