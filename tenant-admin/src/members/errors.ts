import type { FormInstance } from 'antd';
import type { TFunction } from 'i18next';
import { ApiProblem, mapFieldErrors } from '../api/errors';
import { errorText, fieldProblems } from '../common/forms';
import { splitCustomProblems, type ErrorTree } from '../fields/schema';

/**
 * Shows a failed member write: problems on custom values go to the custom form (returned as
 * its error tree), the others under the built-in form's items; returns the text for what
 * matched nothing (or the whole error) as a general message.
 */
export function memberProblems(
  t: TFunction,
  form: FormInstance,
  err: unknown,
  items: readonly string[],
  prefix = 'custom.',
): { custom: ErrorTree; message?: string } {
  if (!(err instanceof ApiProblem)) return { custom: {}, message: errorText(t, err) };
  const { custom, other } = splitCustomProblems(fieldProblems(t, err), prefix);
  const { fields, rest } = mapFieldErrors(other, items);
  form.setFields(fields);
  const matched = fields.length + Object.keys(custom).length;
  if (matched === 0) return { custom, message: errorText(t, err) };
  return { custom, message: rest.length ? rest.join('; ') : undefined };
}
