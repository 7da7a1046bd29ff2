import type { Schemas } from '../api/client';

type Translate = (key: string, options?: Record<string, unknown>) => string;

/** The codes the server gives for a failed import (`message_code`). */
const WHY = [
  'file_unreadable',
  'csv_malformed',
  'not_xlsx',
  'no_sheet',
  'sheet_unreadable',
  'sheet_malformed',
  'empty_file',
  'no_name_column',
  'column_not_a_field',
  'fields_unusable',
  'bad_rows',
  'plan_limit',
  'plan_unchecked',
  'gave_up',
] as const;

/**
 * Why an import imported nothing, in the reader's language; the server's English words for
 * a code this console does not know yet (or an import recorded before codes were kept).
 */
export function importFailureText(
  t: Translate,
  job: Pick<Schemas['ImportView'], 'message' | 'message_code' | 'message_params'>,
): string | undefined {
  const code = job.message_code;
  if (code && (WHY as readonly string[]).includes(code)) {
    const params = job.message_params && typeof job.message_params === 'object' ? job.message_params : {};
    return t(`members.import.why.${code}`, params as Record<string, unknown>);
  }
  return job.message ?? undefined;
}
