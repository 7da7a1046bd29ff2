// Activities: the calls of the activities capability (staff's side) and its query keys. The
// business's activities and their states, the sign-ups (add, approve, reject, move,
// cancel), check-in by code, ratings (with moderation) and statistics. The member portal's
// calls are in `portal/api.ts` (the member's own client).
import { api, call, type Schemas } from '../api/client';
import { newIdempotencyKey } from '../points/cursor';

export type Activity = Schemas['Activity'];
export type ActivityInput = Schemas['NewActivity'];
export type Registration = Schemas['ActivityRegistration'];
export type Guest = Schemas['ActivityGuest'];
export type Rating = Schemas['ActivityRating'];
export type Statistics = Schemas['ActivityStatistics'];
export type Photo = Schemas['ActivityPhoto'];

/** An activity's states, in the order it moves through them. */
export const STATUSES = ['draft', 'published', 'closed', 'finished', 'cancelled'] as const;
/** Which states an activity may move to from each (`core::activities::Status::may_become`). */
export const NEXT: Readonly<Record<string, readonly (typeof STATUSES)[number][]>> = {
  draft: ['published', 'cancelled'],
  published: ['closed', 'finished', 'cancelled'],
  closed: ['published', 'finished', 'cancelled'],
  finished: [],
  cancelled: [],
};

export const activityKeys = {
  all: ['activities'] as const,
  list: (status?: string) => [...activityKeys.all, 'list', status ?? 'all'] as const,
  /** Everything shown of one activity (invalidated after any write on it). */
  one: (id: string) => [...activityKeys.all, 'one', id] as const,
  detail: (id: string) => [...activityKeys.one(id), 'detail'] as const,
  registrations: (id: string) => [...activityKeys.one(id), 'registrations'] as const,
  ratings: (id: string) => [...activityKeys.one(id), 'ratings'] as const,
  statistics: (id: string) => [...activityKeys.one(id), 'statistics'] as const,
  photos: (id: string) => [...activityKeys.one(id), 'photos'] as const,
  guests: (id: string) => [...activityKeys.one(id), 'guests'] as const,
};

const on = (id: string) => ({ path: { id } });
const onRegistration = (id: string, registration: string) => ({
  path: { id, registration_id: registration },
});

export const fetchActivities = (status?: (typeof STATUSES)[number]) =>
  call(api.GET('/activities', { params: { query: { status } } }));

export const fetchActivity = (id: string) => call(api.GET('/activities/{id}', { params: on(id) }));

export const createActivity = (body: ActivityInput) => call(api.POST('/activities', { body }));

export const updateActivity = (id: string, body: ActivityInput) =>
  call(api.PUT('/activities/{id}', { params: on(id), body }));

export const setActivityStatus = (id: string, status: Schemas['ActivityStatusChange']['status']) =>
  call(api.PUT('/activities/{id}/status', { params: on(id), body: { status } }));

export const fetchRegistrations = (id: string) =>
  call(api.GET('/activities/{id}/registrations', { params: on(id) }));

export const addRegistration = (id: string, memberId: string) =>
  call(
    api.POST('/activities/{id}/registrations', {
      params: on(id),
      body: { member_id: memberId, idempotency_key: newIdempotencyKey('activity') },
    }),
  );

export const approveRegistration = (id: string, registration: string) =>
  call(
    api.POST('/activities/{id}/registrations/{registration_id}/approve', {
      params: onRegistration(id, registration),
      body: { idempotency_key: newIdempotencyKey('activity') },
    }),
  );

export const rejectRegistration = (id: string, registration: string, reason: string) =>
  call(
    api.POST('/activities/{id}/registrations/{registration_id}/reject', {
      params: onRegistration(id, registration),
      body: { reason, idempotency_key: newIdempotencyKey('activity') },
    }),
  );

export const moveRegistration = (id: string, registration: string, to: 'seat' | 'waitlist') =>
  call(
    api.POST('/activities/{id}/registrations/{registration_id}/move', {
      params: onRegistration(id, registration),
      body: { to, idempotency_key: newIdempotencyKey('activity') },
    }),
  );

export const cancelRegistration = (id: string, registration: string) =>
  call(
    api.POST('/activities/{id}/registrations/{registration_id}/cancel', {
      params: onRegistration(id, registration),
      body: { idempotency_key: newIdempotencyKey('activity') },
    }),
  );

export const checkIn = (id: string, code: string) =>
  call(api.POST('/activities/{id}/check-ins', { params: on(id), body: { code } }));

export const fetchRatings = (id: string) => call(api.GET('/activities/{id}/ratings', { params: on(id) }));

export const setRatingHidden = (id: string, registration: string, hidden: boolean) =>
  call(
    api.PUT('/activities/{id}/ratings/{registration_id}/hidden', {
      params: onRegistration(id, registration),
      body: { hidden },
    }),
  );

export const fetchStatistics = (id: string) =>
  call(api.GET('/activities/{id}/statistics', { params: on(id) }));

export const fetchPhotos = (id: string) => call(api.GET('/activities/{id}/photos', { params: on(id) }));

export const addPhoto = (id: string, uploadId: string) =>
  call(api.POST('/activities/{id}/photos', { params: on(id), body: { upload_id: uploadId } }));

export const deletePhoto = (id: string, photo: string) =>
  call(api.DELETE('/activities/{id}/photos/{photo_id}', { params: { path: { id, photo_id: photo } } }));

export const fetchGuests = (id: string) => call(api.GET('/activities/{id}/guests', { params: on(id) }));

export const addGuest = (id: string, name: string, phone: string) =>
  call(
    api.POST('/activities/{id}/guests', {
      params: on(id),
      body: { name, phone, idempotency_key: newIdempotencyKey('activity') },
    }),
  );

export const cancelGuest = (id: string, guest: string) =>
  call(
    api.POST('/activities/{id}/guests/{guest_id}/cancel', {
      params: { path: { id, guest_id: guest } },
      body: { idempotency_key: newIdempotencyKey('activity') },
    }),
  );

export const checkInGuest = (id: string, guest: string) =>
  call(api.POST('/activities/{id}/guests/{guest_id}/check-in', { params: { path: { id, guest_id: guest } } }));
