// Portal site: the staff's calls for the member portal's page (logo, address, opening hours,
// privacy terms) and their query keys. Pages use these with react-query.
import { api, call, type Schemas } from '../api/client';

export const portalSiteKeys = {
  all: ['portal-site'] as const,
  settings: () => [...portalSiteKeys.all, 'settings'] as const,
};

export const fetchPortalSettings = () => call(api.GET('/portal-settings'));

export const savePortalSettings = (body: Schemas['PortalSettingsChange']) => call(api.PUT('/portal-settings', { body }));

/** The portal's address for a business: `<origin>/m/<slug>`. */
export const portalUrl = (origin: string, slug: string) => `${origin}/m/${encodeURIComponent(slug)}`;
