// Members: the calls of the members capability and its query keys. Search and export,
// registering, one member (profile, phone code, erasure), their cards and change log, and
// member imports. Pages use these with react-query; nothing else calls the client for
// members.
import { api, call, callBlob, type Schemas } from '../api/client';

export const membersKeys = {
  /** Everything about members (invalidated when a member is registered or fields change). */
  all: ['members'] as const,
  searches: () => [...membersKeys.all, 'search'] as const,
  search: (search: Schemas['MemberSearch']) => [...membersKeys.searches(), search] as const,
  /** One member, and (under it) their cards and change log. */
  detail: (id: string) => [...membersKeys.all, id] as const,
  cards: (id: string) => [...membersKeys.detail(id), 'cards'] as const,
  audit: (id: string) => [...membersKeys.detail(id), 'audit'] as const,
  /** An import job: kept apart from `all`, so member changes do not poll it again. */
  import: (id: string | undefined) => ['member-imports', id] as const,
};

export const searchMembers = (search: Schemas['MemberSearch']) => call(api.POST('/members/search', { body: search }));

/**
 * The members a search finds, as a CSV or Excel file: for people (headers and option labels in
 * `lang`, times in the business's zone, points and tier) or in the import's own layout.
 */
export const exportMembers = (
  format: 'csv' | 'xlsx',
  search: Schemas['MemberSearch'],
  layout: Schemas['ExportLayout'] = 'people',
  lang?: string,
) =>
  callBlob(
    api.POST(format === 'csv' ? '/members/export.csv' : '/members/export.xlsx', {
      params: { query: { layout, lang } },
      body: search,
      parseAs: 'blob',
    }),
  );

export const registerMember = (body: Schemas['NewMember']) => call(api.POST('/members', { body }));

export const fetchMember = (id: string) => call(api.GET('/members/{id}', { params: { path: { id } } }));

export const updateMember = (id: string, body: Schemas['MemberChange']) =>
  call(api.PATCH('/members/{id}', { params: { path: { id } }, body }));

/** Sends a code to a member's new phone number, to confirm the change. */
export const sendPhoneCode = (id: string, phone: string) =>
  call(api.POST('/members/{id}/phone-code', { params: { path: { id } }, body: { phone } }));

export const eraseMember = (id: string) => call(api.POST('/members/{id}/erase', { params: { path: { id } } }));

export const fetchMemberAudit = (id: string, query: { after: number | undefined; limit: number }) =>
  call(api.GET('/members/{id}/audit', { params: { path: { id }, query } }));

export const fetchMemberCards = (id: string) => call(api.GET('/members/{id}/cards', { params: { path: { id } } }));

export const bindPhysicalCard = (id: string, physicalCode: string) =>
  call(api.POST('/members/{id}/cards/physical', { params: { path: { id } }, body: { physical_code: physicalCode } }));

export const reportCardLost = (number: string) => call(api.POST('/cards/{number}/lost', { params: { path: { number } } }));

export const reissueCard = (number: string) => call(api.POST('/cards/{number}/reissue', { params: { path: { number } } }));

/** Uploads a member file and starts an import (a dry run, or for real). */
export const startImport = (
  file: File,
  query: { format: Schemas['FileFormat']; mode: Schemas['ImportMode']; mapping: string },
) =>
  call(
    api.POST('/members/imports', {
      params: { query },
      body: file as unknown as string,
      bodySerializer: (b: unknown) => b as BodyInit,
      headers: { 'content-type': 'application/octet-stream' },
    }),
  );

export const fetchImport = (id: string) => call(api.GET('/members/imports/{id}', { params: { path: { id } } }));
