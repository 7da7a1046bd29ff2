// Tiers: the calls of the tiers capability and its query keys. The ladder (draft, preview,
// publish, rollback, versions), the tier script check, the tier history export, and one
// member's tier with its pin. Pages use these with react-query; nothing else calls the
// client for tiers.
import { api, call, callBlob, type Schemas } from '../api/client';
import type { RuleFailure } from '../rules/diagnostics';

export const tiersKeys = {
  all: ['tiers'] as const,
  overview: () => [...tiersKeys.all, 'overview'] as const,
  versions: () => [...tiersKeys.all, 'versions'] as const,
  member: (id: string) => [...tiersKeys.all, 'member', id] as const,
};

type Ladder = Schemas['TierLadder'];

export const fetchTiersOverview = () => call(api.GET('/tiers'));

export const fetchTierVersions = () => call(api.GET('/tiers/versions'));

export const saveTierDraft = (ladder: Ladder) => call(api.PUT('/tiers/draft', { body: ladder }));

export const previewTiers = (ladder: Ladder) => call(api.POST('/tiers/preview', { body: { ladder } }));

export const publishTiers = (ladder: Ladder, note: string) =>
  call(api.POST('/tiers/publish', { body: { ladder, note } }));

export const rollbackTiers = (version: number) => call(api.POST('/tiers/rollback', { body: { version } }));

/** Compiles a tier script; answers its compile error, if any (throws when not checked). */
export async function checkTierScript(script: string): Promise<RuleFailure | null | undefined> {
  const { data } = await api.POST('/tiers/script/check', { body: { script } });
  if (!data) throw new Error('not checked');
  return data.error;
}

export interface TierHistoryQuery {
  member_id?: string;
  from?: string;
  to?: string;
  /** `people`: names and words in `lang` (what the console downloads); `machine`: codes and ids. */
  layout?: 'machine' | 'people';
  lang?: string;
}

/** Members a clerk's text finds (phone, its last four digits, card, name): the export's member picker. */
export const findMembers = (q: string) => call(api.GET('/desk/lookup', { params: { query: { q } } }));

/** Tier history as a CSV or Excel file. */
export const exportTierHistory = (format: 'csv' | 'xlsx', query: TierHistoryQuery) =>
  callBlob(
    format === 'csv'
      ? api.GET('/tiers/history/export.csv', { params: { query }, parseAs: 'blob' })
      : api.GET('/tiers/history/export.xlsx', { params: { query }, parseAs: 'blob' }),
  );

export const fetchMemberTier = (memberId: string) =>
  call(api.GET('/members/{id}/tier', { params: { path: { id: memberId } } }));

export const pinMemberTier = (memberId: string, body: Schemas['TierPinInput']) =>
  call(api.PUT('/members/{id}/tier/pin', { params: { path: { id: memberId } }, body }));

export const unpinMemberTier = (memberId: string, reason: string) =>
  call(api.POST('/members/{id}/tier/unpin', { params: { path: { id: memberId } }, body: { reason } }));
