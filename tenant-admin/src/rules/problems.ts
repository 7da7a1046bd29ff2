// Errors of the rule endpoints worth explaining: a 402 names the plan feature or limit that is
// missing (its body has more than the usual problem), a 422 on publish carries the compile
// error's line and column in its message.
import { ApiProblem, type Problem } from '../api/errors';
import type { RuleFailure } from './diagnostics';

export interface PlanInfo {
  plan?: string;
  feature?: string;
  limit?: string;
  upgrade_to?: string;
  plans: string[];
}

/** An `ApiProblem` that also keeps what a 402 says about the plan. */
export class PlanProblem extends ApiProblem {
  readonly planInfo: PlanInfo;
  constructor(status: number, body: Problem & Partial<PlanInfo>) {
    super(status, body);
    this.planInfo = {
      plan: body.plan,
      feature: body.feature,
      limit: body.limit,
      upgrade_to: body.upgrade_to,
      plans: Array.isArray(body.plans) ? body.plans : [],
    };
  }
}

/** Like `call`, but a 402 becomes a [`PlanProblem`]. */
export async function callRules<T>(promise: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await promise;
  if (error !== undefined || !response.ok) {
    const body = error as (Partial<Problem> & Partial<PlanInfo>) | undefined;
    if (response.status === 402 && body && typeof body.code === 'string') {
      throw new PlanProblem(402, {
        ...body,
        code: body.code,
        message: typeof body.message === 'string' ? body.message : body.code,
        fields: Array.isArray(body.fields) ? body.fields : [],
      });
    }
    throw ApiProblem.from(response.status, body);
  }
  return data as T;
}

export type PublishFailure =
  | { kind: 'needs_feature'; feature: string; plans: string[]; upgradeTo?: string }
  | { kind: 'limit'; limit?: string; plans: string[]; upgradeTo?: string }
  | { kind: 'compile'; failure: RuleFailure }
  | { kind: 'other' };

/** `does not compile (line 3, column 7): Unknown variable` -> the failure with its place. */
export function compileFailureOf(problem: string): RuleFailure | undefined {
  const m = /^does not compile(?: \(line (\d+)(?:, column (\d+))?\))?: ([\s\S]*)$/.exec(problem);
  if (!m) return undefined;
  return {
    kind: 'compile',
    message: m[3]!,
    line: m[1] ? Number(m[1]) : undefined,
    column: m[2] ? Number(m[2]) : undefined,
  };
}

/** What went wrong with a publish, for the message the editor shows. */
export function publishFailure(err: unknown): PublishFailure {
  if (err instanceof PlanProblem) {
    const { feature, limit, plans, upgrade_to } = err.planInfo;
    if (err.code === 'feature_not_in_plan' && feature) {
      return { kind: 'needs_feature', feature, plans, upgradeTo: upgrade_to };
    }
    if (err.code === 'limit_reached') return { kind: 'limit', limit, plans, upgradeTo: upgrade_to };
  }
  if (err instanceof ApiProblem && err.status === 422) {
    for (const f of err.fields) {
      if (f.field === 'script') {
        const failure = compileFailureOf(f.problem);
        if (failure) return { kind: 'compile', failure };
      }
    }
  }
  return { kind: 'other' };
}
