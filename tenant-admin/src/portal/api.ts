// Portal: the calls of the member portal and its query keys. A business's registration
// form, codes by SMS, registering, logging in and resetting a password, and the signed-in
// member's profile, points, entries, tier, check-in and prepaid (memberships, stored value,
// passes). These go through the portal's own client (`./client`, the member's token), never
// the staff's. Nothing else calls it.
import type { Client } from 'openapi-fetch';
import { call, type Schemas } from '../api/client';
import { putToStore } from '../uploads/api';
import { portalApi } from './client';

/** Every key is under one business, so signing out of it drops exactly its data. */
export const portalKeys = {
  all: ['portal'] as const,
  business: (slug: string) => [...portalKeys.all, slug] as const,
  form: (slug: string) => [...portalKeys.business(slug), 'form'] as const,
  me: (slug: string, token: string | null) => [...portalKeys.business(slug), 'me', token] as const,
  /** The member's points, whichever token (invalidated after a check-in). */
  allPoints: (slug: string) => [...portalKeys.business(slug), 'points'] as const,
  points: (slug: string, token: string | null) => [...portalKeys.allPoints(slug), token] as const,
  allEntries: (slug: string) => [...portalKeys.business(slug), 'entries'] as const,
  entries: (slug: string, token: string | null) => [...portalKeys.allEntries(slug), token] as const,
  tier: (slug: string, token: string | null) => [...portalKeys.business(slug), 'tier', token] as const,
  code: (slug: string, token: string | null) => [...portalKeys.business(slug), 'code', token] as const,
  prepaid: (slug: string, token: string | null) => [...portalKeys.business(slug), 'prepaid', token] as const,
  /** The mall and my orders (invalidated after an order or a cancel). */
  allMall: (slug: string) => [...portalKeys.business(slug), 'mall'] as const,
  mall: (slug: string, token: string | null) => [...portalKeys.allMall(slug), 'items', token] as const,
  mallOrders: (slug: string, token: string | null) => [...portalKeys.allMall(slug), 'orders', token] as const,
  /** Activities open to the member and their own registrations (invalidated after a sign-up). */
  activities: (slug: string, token: string | null) => [...portalKeys.business(slug), 'activities', token] as const,
  activityCode: (slug: string, registration: string) =>
    [...portalKeys.business(slug), 'activity-code', registration] as const,
  activityPhotos: (slug: string, registration: string) =>
    [...portalKeys.business(slug), 'activity-photos', registration] as const,
};

/** The member's dynamic code: shown as QR and barcode until `expires_at`, fetched again after `refresh_in` seconds. */
export interface MemberCode {
  code: string;
  expires_at: string;
  refresh_in: number;
}

/** `GET /portal/{tenant}/me/code` (`portalMyCode`), typed here until the document has it. */
interface MemberCodePaths {
  '/portal/{tenant}/me/code': {
    parameters: { query?: never; header?: never; path: { tenant: string }; cookie?: never };
    get: {
      parameters: { query?: never; header?: never; path: { tenant: string }; cookie?: never };
      requestBody?: never;
      responses: { 200: { headers: Record<string, unknown>; content: { 'application/json': MemberCode } } };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
}
const codeApi = portalApi as unknown as Client<MemberCodePaths>;

const at = (slug: string) => ({ path: { tenant: slug } });

export const fetchPortalForm = (slug: string) => call(portalApi.GET('/portal/{tenant}/form', { params: at(slug) }));

export const sendPortalCode = (slug: string, body: Schemas['CodeRequest']) =>
  call(portalApi.POST('/portal/{tenant}/codes', { params: at(slug), body }));

export const portalLogin = (slug: string, body: Schemas['MemberLogin']) =>
  call(portalApi.POST('/portal/{tenant}/login', { params: at(slug), body }));

export const portalRegister = (slug: string, body: Schemas['Registration']) =>
  call(portalApi.POST('/portal/{tenant}/register', { params: at(slug), body }));

export const portalResetPassword = (slug: string, body: Schemas['PasswordReset']) =>
  call(portalApi.POST('/portal/{tenant}/password-reset', { params: at(slug), body }));

export const fetchPortalMe = (slug: string) => call(portalApi.GET('/portal/{tenant}/me', { params: at(slug) }));

export const updatePortalMe = (slug: string, body: Schemas['ProfileChange']) =>
  call(portalApi.PATCH('/portal/{tenant}/me', { params: at(slug), body }));

export const fetchPortalPoints = (slug: string) => call(portalApi.GET('/portal/{tenant}/me/points', { params: at(slug) }));

export const fetchPortalEntries = (slug: string, before: number | undefined) =>
  call(portalApi.GET('/portal/{tenant}/me/points/entries', { params: { ...at(slug), query: { before } } }));

export const portalCheckIn = (slug: string) => call(portalApi.POST('/portal/{tenant}/me/check-in', { params: at(slug) }));

export const fetchPortalTier = (slug: string) => call(portalApi.GET('/portal/{tenant}/me/tier', { params: at(slug) }));

export const fetchMyCode = (slug: string) => call(codeApi.GET('/portal/{tenant}/me/code', { params: at(slug) }));

export const fetchPortalPrepaid = (slug: string) =>
  call(portalApi.GET('/portal/{tenant}/me/prepaid', { params: at(slug) }));

export const fetchPortalMall = (slug: string) => call(portalApi.GET('/portal/{tenant}/mall', { params: at(slug) }));

export const fetchPortalMallOrders = (slug: string) =>
  call(portalApi.GET('/portal/{tenant}/mall/orders', { params: at(slug) }));

export const portalPlaceMallOrder = (slug: string, body: Schemas['MyNewMallOrder']) =>
  call(portalApi.POST('/portal/{tenant}/mall/orders', { params: at(slug), body }));

export const portalCancelMallOrder = (slug: string, orderId: string) =>
  call(
    portalApi.POST('/portal/{tenant}/mall/orders/{order_id}/cancel', {
      params: { path: { tenant: slug, order_id: orderId } },
      body: {},
    }),
  );
export const fetchPortalActivities = (slug: string) =>
  call(portalApi.GET('/portal/{tenant}/activities', { params: at(slug) }));

export const fetchMyActivities = (slug: string) =>
  call(portalApi.GET('/portal/{tenant}/me/activities', { params: at(slug) }));

export const signUpActivity = (slug: string, id: string, key: string) =>
  call(
    portalApi.POST('/portal/{tenant}/activities/{id}/sign-up', {
      params: { path: { tenant: slug, id } },
      body: { idempotency_key: key },
    }),
  );

const mine = (slug: string, registration: string) => ({ path: { tenant: slug, registration_id: registration } });

export const cancelMyActivity = (slug: string, registration: string, key: string) =>
  call(
    portalApi.POST('/portal/{tenant}/me/activities/{registration_id}/cancel', {
      params: mine(slug, registration),
      body: { idempotency_key: key },
    }),
  );

export const acceptActivityOffer = (slug: string, registration: string) =>
  call(portalApi.POST('/portal/{tenant}/me/activities/{registration_id}/accept', { params: mine(slug, registration) }));

export const fetchActivityCode = (slug: string, registration: string) =>
  call(portalApi.GET('/portal/{tenant}/me/activities/{registration_id}/code', { params: mine(slug, registration) }));

export const rateActivity = (slug: string, registration: string, body: Schemas['MyActivityRating']) =>
  call(portalApi.PUT('/portal/{tenant}/me/activities/{registration_id}/rating', { params: mine(slug, registration), body }));

export const fetchActivityPhotos = (slug: string, registration: string) =>
  call(portalApi.GET('/portal/{tenant}/me/activities/{registration_id}/photos', { params: mine(slug, registration) }));

/** Sends a photo straight to the file store and completes it: the upload's id. */
export async function uploadMyPhoto(slug: string, file: File): Promise<string> {
  const ticket = await call(
    portalApi.POST('/portal/{tenant}/me/uploads', {
      params: at(slug),
      body: {
        content_type: file.type as Schemas['PortalNewUpload']['content_type'],
        size: file.size,
        file_name: file.name || 'photo',
      },
    }),
  );
  await putToStore(ticket.put_url, ticket.put_headers, file);
  await call(
    portalApi.POST('/portal/{tenant}/me/uploads/{id}/complete', { params: { path: { tenant: slug, id: ticket.id } } }),
  );
  return ticket.id;
}

export const addActivityPhoto = (slug: string, registration: string, uploadId: string) =>
  call(
    portalApi.POST('/portal/{tenant}/me/activities/{registration_id}/photos', {
      params: mine(slug, registration),
      body: { upload_id: uploadId },
    }),
  );

export const deleteActivityPhoto = (slug: string, registration: string, photo: string) =>
  call(
    portalApi.DELETE('/portal/{tenant}/me/activities/{registration_id}/photos/{photo_id}', {
      params: { path: { tenant: slug, registration_id: registration, photo_id: photo } },
    }),
  );

/** The member's inbox (notices and e-mails, with the unread count), for the tab's badge. */
export const fetchPortalInbox = (slug: string) => call(portalApi.GET('/portal/{tenant}/inbox', { params: at(slug) }));
