// Plan: the calls of the business's plan and billing, and their query keys. The plan in
// force with its use, the plans on offer, changing plan, and invoices. Pages use these
// with react-query; nothing else calls the client for the plan.
import { api, call } from '../api/client';

export const planKeys = {
  /** The business's plan and its use. */
  mine: () => ['plan'] as const,
  /** The plans on offer (kept apart from `mine`: a plan change does not reload them). */
  catalogue: () => ['plans'] as const,
  invoices: () => ['invoices'] as const,
};

export const fetchMyPlan = () => call(api.GET('/plan'));

export const fetchPlans = () => call(api.GET('/plans'));

export const fetchInvoices = () => call(api.GET('/invoices'));

export const changePlan = (plan: string) => call(api.POST('/plan', { body: { plan } }));
