// A field problem in the reader's language, from its stable code and parameters.
import type { TFunction } from 'i18next';
import type { FieldProblem } from './errors';

/**
 * One field problem in the reader's language: a rule's own words (`params.reason`), a
 * format's (`params.format`), the code's, or a refusal's code (`phone_taken`); the server's
 * English words only for a code the console does not know.
 */
export function fieldProblemText(
  t: TFunction,
  f: Pick<FieldProblem, 'problem'> & { code?: string; params?: Record<string, unknown> },
  outer?: string,
): string {
  const params = f.params ?? {};
  const keys: string[] = [];
  const code = f.code && f.code !== 'invalid' ? f.code : undefined;
  if (typeof params.reason === 'string') keys.push(`fieldErrors.reasons.${params.reason}`);
  if (code === 'invalid_format' && typeof params.format === 'string') keys.push(`fieldErrors.formats.${params.format}`);
  if (code) keys.push(`fieldErrors.${code}`, `errors.${code}`);
  else if (outer && outer !== 'invalid_input') keys.push(`errors.${outer}`);
  if (keys.length === 0) return f.problem;
  return t(keys, { ...params, defaultValue: f.problem });
}
