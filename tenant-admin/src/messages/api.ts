// Messages and webhooks: the calls of the messages capability and its query keys. Templates
// (save, preview), the e-mails sent, and webhook endpoints with their delivery log, secret
// rotation, replay and a test call. Pages use these with react-query; nothing else calls the
// client for messages.
import { api, call, type Schemas } from '../api/client';

export const messagesKeys = {
  all: ['messages'] as const,
  templates: () => [...messagesKeys.all, 'templates'] as const,
  sent: () => [...messagesKeys.all, 'sent'] as const,
  endpoints: () => [...messagesKeys.all, 'endpoints'] as const,
  endpoint: (id: string) => [...messagesKeys.all, 'endpoints', id] as const,
  deliveries: (id: string) => [...messagesKeys.all, 'endpoints', id, 'deliveries'] as const,
};

/** The occasions a business can word, in the order the console lists them. */
export const OCCASIONS = [
  'member.created',
  'points.earned',
  'points.redeemed',
  'tier.changed',
  'birthday',
  'points.expiring',
  'membership.ending',
  'pass.ending',
  'activity.reminder',
  'activity.offered',
  'activity.approved',
  'activity.rejected',
  'activity.cancelled',
  'conversation.answered',
] as const;

/** The event types an endpoint can hear. */
export const EVENT_TYPES = [
  'member.created',
  'points.earned',
  'points.redeemed',
  'tier.changed',
  'activity.offered',
  'activity.approved',
  'activity.rejected',
  'activity.cancelled',
  'conversation.answered',
] as const;

export const fetchTemplates = () => call(api.GET('/messages/templates'));

export const saveTemplate = (body: Schemas['TemplateInput']) => call(api.PUT('/messages/templates', { body }));

export const previewTemplate = (body: Schemas['TemplateInput']) =>
  call(api.POST('/messages/templates/preview', { body }));

export const fetchSent = () => call(api.GET('/messages', { params: { query: { channel: 'email' } } }));

export const fetchEndpoints = () => call(api.GET('/webhooks/endpoints'));

export const fetchEndpoint = (id: string) => call(api.GET('/webhooks/endpoints/{id}', { params: { path: { id } } }));

export const createEndpoint = (body: Schemas['EndpointInput']) => call(api.POST('/webhooks/endpoints', { body }));

export const updateEndpoint = (id: string, body: Schemas['EndpointInput']) =>
  call(api.PUT('/webhooks/endpoints/{id}', { params: { path: { id } }, body }));

export const deleteEndpoint = (id: string) =>
  call(api.DELETE('/webhooks/endpoints/{id}', { params: { path: { id } } }));

export const rotateSecret = (id: string) =>
  call(api.POST('/webhooks/endpoints/{id}/rotate-secret', { params: { path: { id } } }));

export const fetchDeliveries = (id: string) =>
  call(api.GET('/webhooks/endpoints/{id}/deliveries', { params: { path: { id } } }));

export const replayEndpoint = (id: string, since: string) =>
  call(api.POST('/webhooks/endpoints/{id}/replay', { params: { path: { id } }, body: { since } }));

export const testEndpoint = (id: string) =>
  call(api.POST('/webhooks/endpoints/{id}/test', { params: { path: { id } } }));

export const smsKeys = {
  status: () => [...messagesKeys.all, 'sms', 'status'] as const,
};

export const fetchSmsStatus = () => call(api.GET('/sms/status'));

export const sendTestSms = (phone: string) => call(api.POST('/sms/test', { body: { phone } }));
