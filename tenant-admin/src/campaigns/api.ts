// Campaigns: the calls of the campaigns capability and their query keys. A campaign to
// the members a search finds (by e-mail, SMS and the portal's inbox), its preview (the
// audience per channel and the cost against the plan's monthly quotas), the list with
// results, cancelling a scheduled one, and the contact budget.
import { api, call, type Schemas } from '../api/client';

export type Campaign = Schemas['Campaign'];
export type NewCampaign = Schemas['NewCampaign'];
export type CampaignPreview = Schemas['CampaignPreview'];

/** The channels, in the order the contact budget spends them. */
export const CHANNELS = ['inbox', 'email', 'sms'] as const;
export type Channel = (typeof CHANNELS)[number];

export const campaignKeys = {
  all: ['campaigns'] as const,
  list: () => [...campaignKeys.all, 'list'] as const,
  settings: () => [...campaignKeys.all, 'settings'] as const,
};

export const fetchCampaigns = () => call(api.GET('/campaigns'));

export const previewCampaign = (body: Schemas['CampaignPreviewRequest']) => call(api.POST('/campaigns/preview', { body }));

export const createCampaign = (body: NewCampaign) => call(api.POST('/campaigns', { body }));

export const cancelCampaign = (id: string) =>
  call(api.POST('/campaigns/{campaign_id}/cancel', { params: { path: { campaign_id: id } } }));

export const fetchCampaignSettings = () => call(api.GET('/campaign-settings'));

export const saveCampaignSettings = (body: Schemas['CampaignSettings']) => call(api.PUT('/campaign-settings', { body }));

/** Whether a campaign is still on its way (the list refreshes while one is). */
export const inProgress = (c: Pick<Campaign, 'status'>) => c.status === 'scheduled' || c.status === 'sending';

/**
 * The text of a channel's opens: e-mails opened (their image loaded, an estimate) or inbox
 * messages read; none for text messages, which cannot tell.
 */
export const openedKey = (channel: string): string | null =>
  channel === 'email' ? 'campaigns.openedEmail' : channel === 'inbox' ? 'campaigns.opened' : null;

/** The messages of a form: one per chosen channel and language with any text. */
export function messagesOf(
  channels: readonly string[],
  texts: Partial<Record<string, { subject?: string; body?: string }>>,
): Schemas['CampaignMessage'][] {
  const out: Schemas['CampaignMessage'][] = [];
  for (const channel of channels) {
    for (const locale of ['zh-CN', 'en'] as const) {
      const x = texts[`${channel}.${locale}`];
      const body = (x?.body ?? '').trim();
      const subject = (x?.subject ?? '').trim();
      if (!body && !subject) continue;
      out.push({ channel, locale, body, ...(channel === 'sms' ? {} : { subject }) });
    }
  }
  return out;
}
