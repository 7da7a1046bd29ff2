// Operators: the calls of the platform operators' console and its query keys. The
// operator's session, plans, tenants (plan, suspend, resume, trial) and platform totals.
// These take the operator's token (see src/api/client.ts). Nothing else calls the client
// for operators.
import { api, call, type Schemas } from '../api/client';

export const opsKeys = {
  /** Everything operators see (invalidated after any operator change, dropped at logout). */
  all: ['ops'] as const,
  me: (token: string | null) => [...opsKeys.all, 'me', token] as const,
  plans: () => [...opsKeys.all, 'plans'] as const,
  tenants: (q: string, plan: string | undefined, status: string | undefined) =>
    [...opsKeys.all, 'tenants', q, plan, status] as const,
  totals: () => [...opsKeys.all, 'totals'] as const,
};

export const opsLogin = (body: Schemas['OperatorLogin']) => call(api.POST('/ops/login', { body }));

export const opsLogout = () => call(api.POST('/ops/logout'));

export const fetchOperator = () => call(api.GET('/ops/me'));

export const fetchOpsPlans = () => call(api.GET('/ops/plans'));

export const createOpsPlan = (body: Schemas['PlanInput']) => call(api.POST('/ops/plans', { body }));

export const updateOpsPlan = (code: string, body: Schemas['PlanInput']) =>
  call(api.PUT('/ops/plans/{code}', { params: { path: { code } }, body }));

export const fetchOpsTenants = (query: { q?: string; plan?: string; status?: string; limit: number }) =>
  call(api.GET('/ops/tenants', { params: { query } }));

export const setTenantPlan = (id: number, plan: string) =>
  call(api.POST('/ops/tenants/{id}/plan', { params: { path: { id } }, body: { plan } }));

export const suspendTenant = (id: number, reason: string) =>
  call(api.POST('/ops/tenants/{id}/suspend', { params: { path: { id } }, body: { reason } }));

export const resumeTenant = (id: number) => call(api.POST('/ops/tenants/{id}/resume', { params: { path: { id } } }));

export const extendTrial = (id: number, days: number) =>
  call(api.POST('/ops/tenants/{id}/extend-trial', { params: { path: { id } }, body: { days } }));

export const fetchOpsTotals = () => call(api.GET('/ops/totals'));
