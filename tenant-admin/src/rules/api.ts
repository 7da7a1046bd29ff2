// Rules: the calls of the point rules capability and its query keys. Every trigger's rule
// (in force and draft), checking a script as it is typed, simulating, templates and their
// rendering, saving a draft, publishing (a 402 names the missing plan feature), versions
// and rollback. Pages use these with react-query; nothing else calls the client for rules.
import { api, call, type Schemas } from '../api/client';
import type { RuleFailure } from './diagnostics';
import { callRules } from './problems';
import type { Json } from './template';

export const rulesKeys = {
  /** Every trigger's rule; also the prefix of the keys below. */
  all: ['rules'] as const,
  overview: () => [...rulesKeys.all] as const,
  versions: (trigger: string) => [...rulesKeys.all, trigger, 'versions'] as const,
  templates: () => [...rulesKeys.all, 'templates'] as const,
};

export const fetchRules = () => call(api.GET('/rules'));

export const fetchRuleVersions = (trigger: string) =>
  call(api.GET('/rules/{trigger}/versions', { params: { path: { trigger } } }));

export const fetchRuleTemplates = () => call(api.GET('/rules/templates'));

/** The script a template generates. */
export const renderTemplate = (template: Json) => call(api.POST('/rules/templates/render', { body: { template } }));

export const saveRuleDraft = (trigger: string, body: Schemas['DraftInput']) =>
  call(api.PUT('/rules/{trigger}/draft', { params: { path: { trigger } }, body }));

/** Publishes a rule; a 402 becomes a `PlanProblem` naming what the plan lacks. */
export const publishRule = (trigger: string, body: Schemas['PublishInput']) =>
  callRules(api.POST('/rules/{trigger}/publish', { params: { path: { trigger } }, body }));

export const rollbackRule = (trigger: string, version: number) =>
  call(api.POST('/rules/{trigger}/rollback', { params: { path: { trigger } }, body: { version } }));

export const simulateRule = (body: Schemas['SimulateInput']) => call(api.POST('/rules/simulate', { body }));

/** Compiles a point rule; answers its compile error, if any (throws when not checked). */
export async function validateRule(script: string): Promise<RuleFailure | null | undefined> {
  const { data } = await api.POST('/rules/validate', { body: { script } });
  if (!data) throw new Error('not checked');
  return data.error;
}
