/** One bad field: its path, a stable code with the values its text needs, English words. */
export interface FieldProblem {
  field: string;
  /** `invalid` when the server gave only words. */
  code: string;
  params: Record<string, unknown>;
  /** In the console's language once a translator is set (`setFieldProblemText`). */
  problem: string;
  /** The server's English words. */
  english?: string;
}

type FieldText = (f: FieldProblem, outer: string) => string;
let fieldText: FieldText | undefined;

/**
 * Says every field problem of every failed call in the console's language from its code, so
 * that each screen showing `fields[].problem` shows it in the reader's language.
 */
export function setFieldProblemText(text: FieldText | undefined): void {
  fieldText = text;
}

/** The body of every API error. */
export interface Problem {
  code: string;
  message: string;
  fields?: { field: string; problem: string; code?: string; params?: Record<string, unknown>; english?: string }[];
  params?: Record<string, unknown>;
}

export class ApiProblem extends Error {
  readonly status: number;
  readonly code: string;
  readonly fields: FieldProblem[];
  readonly params: Record<string, unknown>;

  constructor(status: number, problem: Problem) {
    super(problem.message);
    this.name = 'ApiProblem';
    this.status = status;
    this.code = problem.code;
    this.fields = (problem.fields ?? []).map((raw) => {
      const english = raw.english ?? raw.problem;
      const f: FieldProblem = { ...raw, code: raw.code ?? 'invalid', params: raw.params ?? {}, problem: english };
      return fieldText ? { ...f, english, problem: fieldText(f, problem.code) } : f;
    });
    this.params = problem.params ?? {};
  }

  static from(status: number, body: Partial<Problem> | undefined | null): ApiProblem {
    if (body && typeof body === 'object' && typeof body.code === 'string') {
      return new ApiProblem(status, {
        code: body.code,
        message: typeof body.message === 'string' ? body.message : body.code,
        fields: Array.isArray(body.fields) ? body.fields : [],
        params: body.params && typeof body.params === 'object' ? body.params : {},
      });
    }
    return new ApiProblem(status, { code: `http_${status}`, message: `HTTP ${status}` });
  }
}

export type NamePath = (string | number)[];

export interface FieldErrorMapping {
  /** Errors for form items, in the shape antd's `form.setFields` takes. */
  fields: { name: NamePath; errors: string[] }[];
  /** Problems that match no form item (shown as a general message). */
  rest: string[];
}

/**
 * Maps the server's `fields[].field` paths (`email`, `roles.1`) onto form items. A path
 * goes to the longest prefix that is a form item (`roles.1` -> `roles`); problems on fields
 * the form does not have end up in `rest`, prefixed with the path.
 */
export function mapFieldErrors(
  fields: { field: string; problem: string }[],
  formItems: readonly string[],
  alias: Readonly<Record<string, string>> = {},
): FieldErrorMapping {
  const known = new Set(formItems);
  const byItem = new Map<string, string[]>();
  const rest: string[] = [];
  for (const { field, problem } of fields) {
    const parts = field.split('.').filter((p) => p !== '');
    let target: string | undefined;
    for (let n = parts.length; n > 0 && target === undefined; n--) {
      const prefix = parts.slice(0, n).join('.');
      const name = alias[prefix] ?? prefix;
      if (known.has(name)) target = name;
    }
    if (target === undefined) {
      rest.push(field ? `${field}: ${problem}` : problem);
    } else {
      const list = byItem.get(target) ?? [];
      list.push(problem);
      byItem.set(target, list);
    }
  }
  return {
    fields: [...byItem].map(([name, errors]) => ({
      name: name.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p)),
      errors,
    })),
    rest,
  };
}
