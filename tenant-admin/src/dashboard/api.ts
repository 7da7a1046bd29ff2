// Dashboard: the one call of the business's dashboard (members, points, purchases, tiers
// over time) and its query key.
import { api, call } from '../api/client';

export const dashboardKeys = {
  all: ['dashboard'] as const,
  overview: () => [...dashboardKeys.all] as const,
};

export const fetchDashboard = () => call(api.GET('/dashboard'));
