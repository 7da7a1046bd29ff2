// The staff session token, kept in localStorage so a reload stays logged in.
const KEY = 'patron.token';
const TENANT_KEY = 'patron.tenant';

export function getToken(): string | null {
  return localStorage.getItem(KEY);
}

export function setToken(token: string): void {
  localStorage.setItem(KEY, token);
}

export function clearToken(): void {
  localStorage.removeItem(KEY);
}

/** The business slug last used to log in, to prefill the login form. */
export function lastTenant(): string {
  return localStorage.getItem(TENANT_KEY) ?? '';
}

export function rememberTenant(slug: string): void {
  localStorage.setItem(TENANT_KEY, slug);
}

// The platform operator's token, apart from any business login.
const OPS_KEY = 'patron.opsToken';

export function getOpsToken(): string | null {
  return localStorage.getItem(OPS_KEY);
}

export function setOpsToken(token: string): void {
  localStorage.setItem(OPS_KEY, token);
}

export function clearOpsToken(): void {
  localStorage.removeItem(OPS_KEY);
}
