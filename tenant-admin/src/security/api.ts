// Security: two-factor codes (enrol, confirm, turn off, new recovery codes), my login history, and the
// business's security settings. Nothing else calls the client for them.
import { api, call, type Schemas } from '../api/client';

export const securityKeys = {
  all: ['security'] as const,
  status: () => [...securityKeys.all, 'status'] as const,
  logins: () => [...securityKeys.all, 'logins'] as const,
  settings: () => [...securityKeys.all, 'settings'] as const,
};

export const fetchTwoFactor = () => call(api.GET('/auth/2fa'));
export const enrolTwoFactor = () => call(api.POST('/auth/2fa/enrol'));
export const confirmTwoFactor = (body: Schemas['TwoFactorCode']) => call(api.POST('/auth/2fa/confirm', { body }));
export const disableTwoFactor = (body: Schemas['TwoFactorOff']) => call(api.POST('/auth/2fa/disable', { body }));
export const renewRecoveryCodes = (body: Schemas['RecoveryCodesRenewal']) =>
  call(api.POST('/auth/2fa/recovery-codes', { body }));
export const fetchMyLogins = () => call(api.GET('/auth/logins'));
export const fetchSecuritySettings = () => call(api.GET('/security/settings'));
export const saveSecuritySettings = (body: Schemas['SecuritySettings']) =>
  call(api.PUT('/security/settings', { body }));
