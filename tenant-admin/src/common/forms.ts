import type { FormInstance } from 'antd';
import type { TFunction } from 'i18next';
import { ApiProblem, mapFieldErrors } from '../api/errors';

/** A message for a failed call: a translated one for known codes, else the server's. */
export function errorText(t: TFunction, err: unknown): string {
  if (err instanceof ApiProblem) {
    return t(`errors.${err.code}`, { defaultValue: err.message });
  }
  return t('errors.network');
}

/**
 * Shows a failed call on the form: each server field problem under its form item; returns
 * the text for what matched no item (or the whole error), for a general message.
 */
export function applyServerErrors(
  t: TFunction,
  form: FormInstance,
  err: unknown,
  formItems: readonly string[],
  alias: Readonly<Record<string, string>> = {},
): string | undefined {
  if (!(err instanceof ApiProblem)) return errorText(t, err);
  const { fields, rest } = mapFieldErrors(err.fields, formItems, alias);
  form.setFields(fields);
  if (fields.length === 0) return errorText(t, err);
  return rest.length ? rest.join('; ') : undefined;
}
