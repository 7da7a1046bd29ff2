// Conversations: the calls of the conversations capability and their query keys. Staff list
// and search threads, answer, assign, close and reopen them and note follow-ups; members
// open threads and write in them from the portal (through the portal's client, the
// member's token). Every write carries an Idempotency-Key so a retry answers once.
import { api, call, type Schemas } from '../api/client';
import { portalApi } from '../portal/client';

export type ConversationQuery = {
  status?: string;
  assignee?: string;
  unassigned?: boolean;
  member_id?: string;
  member?: string;
  keyword?: string;
  from?: string;
  to?: string;
  cursor?: string;
  limit?: number;
};

export const conversationsKeys = {
  all: ['conversations'] as const,
  list: (q: ConversationQuery) => [...conversationsKeys.all, 'list', q] as const,
  thread: (id: string) => [...conversationsKeys.all, 'thread', id] as const,
  due: () => [...conversationsKeys.all, 'due'] as const,
  /** The member's threads in one business. */
  mine: (slug: string, token: string | null) => ['portal', slug, 'conversations', token] as const,
  myThread: (slug: string, token: string | null, id: string) => ['portal', slug, 'conversations', token, id] as const,
};

/** The states a thread moves through. */
export const STATUSES = ['open', 'waiting', 'closed'] as const;

/** A fresh key for one write. */
export const newKey = (): string =>
  typeof crypto !== 'undefined' && 'randomUUID' in crypto ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;

const key = (k: string) => ({ 'Idempotency-Key': k });

export const fetchConversations = (query: ConversationQuery) =>
  call(api.GET('/conversations', { params: { query } }));

export const fetchConversation = (id: string) => call(api.GET('/conversations/{id}', { params: { path: { id } } }));

export const answerConversation = (id: string, body: string, k: string) =>
  call(api.POST('/conversations/{id}/messages', { params: { path: { id }, header: key(k) }, body: { body } }));

export const assignConversation = (id: string, staff_id: string | null) =>
  call(api.PUT('/conversations/{id}/assignee', { params: { path: { id } }, body: { staff_id } }));

export const closeConversation = (id: string) => call(api.POST('/conversations/{id}/close', { params: { path: { id } } }));

export const reopenConversation = (id: string) => call(api.POST('/conversations/{id}/reopen', { params: { path: { id } } }));

export const addFollowUp = (id: string, body: Schemas['NewConversationFollowUp'], k: string) =>
  call(api.POST('/conversations/{id}/follow-ups', { params: { path: { id }, header: key(k) }, body }));

export const finishFollowUp = (id: string, follow_up_id: string) =>
  call(api.POST('/conversations/{id}/follow-ups/{follow_up_id}/done', { params: { path: { id, follow_up_id } } }));

export const fetchDueFollowUps = () => call(api.GET('/conversations/follow-ups/due'));

const at = (slug: string) => ({ path: { tenant: slug } });

export const fetchMyConversations = (slug: string) =>
  call(portalApi.GET('/portal/{tenant}/conversations', { params: at(slug) }));

export const fetchMyConversation = (slug: string, id: string) =>
  call(portalApi.GET('/portal/{tenant}/conversations/{id}', { params: { path: { tenant: slug, id } } }));

export const startConversation = (slug: string, body: Schemas['MyNewConversation'], k: string) =>
  call(portalApi.POST('/portal/{tenant}/conversations', { params: { ...at(slug), header: key(k) }, body }));

export const writeConversation = (slug: string, id: string, body: string, k: string) =>
  call(
    portalApi.POST('/portal/{tenant}/conversations/{id}/messages', {
      params: { path: { tenant: slug, id }, header: key(k) },
      body: { body },
    }),
  );

export const readConversation = (slug: string, id: string) =>
  call(portalApi.POST('/portal/{tenant}/conversations/{id}/read', { params: { path: { tenant: slug, id } } }));
