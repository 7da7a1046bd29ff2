// The member portal's API client: the same generated types as the console, but its own
// token (a member's `pmt_` token, one per business) and never the staff's.
import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from '../api/schema';

const key = (slug: string) => `patron.portal.${slug}`;

export function getMemberToken(slug: string): string | null {
  return localStorage.getItem(key(slug));
}

export function setMemberToken(slug: string, token: string): void {
  localStorage.setItem(key(slug), token);
}

export function clearMemberToken(slug: string): void {
  localStorage.removeItem(key(slug));
}

let onSignedOut: (slug: string) => void = () => {};
/** Called when the server says a member's session is gone. */
export function setSignedOutHandler(fn: (slug: string) => void): void {
  onSignedOut = fn;
}

/** The business slug of a portal path (`/api/v1/portal/<slug>/...`). */
export function slugOf(url: string): string | undefined {
  const m = /\/portal\/([^/?#]+)/.exec(url);
  return m ? decodeURIComponent(m[1]!) : undefined;
}

const auth: Middleware = {
  onRequest({ request }) {
    const slug = slugOf(request.url);
    const token = slug ? getMemberToken(slug) : null;
    // The member's own resources: `/me/...`, the mall (`/mall`, `/mall/orders/...`), the
    // activities and the promotions open to them, the notices, the inbox and conversations.
    if (token && /\/(me|mall|activities|promotions|notices|inbox|conversations)(\/|$|\?)/.test(new URL(request.url).pathname + '/')) {
      request.headers.set('authorization', `Bearer ${token}`);
    }
    return request;
  },
  onResponse({ request, response }) {
    const slug = slugOf(request.url);
    if (response.status === 401 && slug && request.headers.has('authorization')) {
      clearMemberToken(slug);
      onSignedOut(slug);
    }
    return response;
  },
};

export const portalApi = createClient<paths>({ baseUrl: '/api/v1' });
portalApi.use(auth);
