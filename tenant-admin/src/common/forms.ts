import { useCallback, useEffect, useRef } from 'react';
import { App, type FormInstance } from 'antd';
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import { useBlocker, type Location } from 'react-router';
import { ApiProblem, mapFieldErrors } from '../api/errors';
import { fieldProblemText } from '../api/fieldText';

export { fieldProblemText };

/** A message for a failed call: a translated one for known codes, else the server's. */
export function errorText(t: TFunction, err: unknown): string {
  if (err instanceof ApiProblem) {
    return t(`errors.${err.code}`, { ...err.params, defaultValue: err.message });
  }
  return t('errors.network');
}

/** The problems of a failed call by field, each in the console's language. */
export function fieldProblems(t: TFunction, err: ApiProblem): { field: string; problem: string }[] {
  return err.fields.map((f) => ({ field: f.field, problem: fieldProblemText(t, f, err.code) }));
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
  const { fields, rest } = mapFieldErrors(fieldProblems(t, err), formItems, alias);
  form.setFields(fields);
  if (fields.length === 0) return errorText(t, err);
  return rest.length ? rest.join('; ') : undefined;
}

/**
 * Guards unsaved changes: while `dirty`, leaving the page inside the console asks first
 * (react-router's blocker), and closing or reloading the tab asks the browser's question.
 * Returns `leave`, to call before a navigation that follows a save (the changes are kept
 * then, so nothing is lost).
 */
export function useUnsavedChanges(dirty: boolean): { leave: () => void } {
  const { t } = useTranslation();
  const { modal } = App.useApp();
  const guard = useRef(dirty);
  guard.current = dirty;
  const blocker = useBlocker(
    useCallback(
      ({ currentLocation, nextLocation }: { currentLocation: Location; nextLocation: Location }) =>
        guard.current &&
        (currentLocation.pathname !== nextLocation.pathname || currentLocation.search !== nextLocation.search),
      [],
    ),
  );

  useEffect(() => {
    if (blocker.state !== 'blocked') return;
    const asked = modal.confirm({
      title: t('lang.unsaved.title'),
      content: t('lang.unsaved.body'),
      okText: t('lang.unsaved.leave'),
      okButtonProps: { danger: true, 'data-testid': 'unsaved-leave' } as never,
      cancelText: t('lang.unsaved.stay'),
      cancelButtonProps: { 'data-testid': 'unsaved-stay' } as never,
      onOk: () => blocker.proceed(),
      onCancel: () => blocker.reset(),
    });
    return () => asked.destroy();
  }, [blocker, modal, t]);

  useEffect(() => {
    if (!dirty) return;
    const ask = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      // Older browsers ask only when a value is set.
      e.returnValue = '';
    };
    window.addEventListener('beforeunload', ask);
    return () => window.removeEventListener('beforeunload', ask);
  }, [dirty]);

  return {
    leave: useCallback(() => {
      guard.current = false;
    }, []),
  };
}

/**
 * After the server named bad fields: scrolls to the first form item showing an error (in
 * page order, the custom fields' included) and puts the cursor in it.
 */
export function focusFirstError(root: ParentNode = document): void {
  // After React has drawn the errors.
  window.setTimeout(() => {
    const item = root.querySelector<HTMLElement>(
      '.ant-form-item-has-error, .custom-form .form-group.field-error, .custom-form .has-error',
    );
    if (!item) return;
    item.scrollIntoView({ block: 'center', behavior: 'auto' });
    const input = item.querySelector<HTMLElement>('input:not([type=hidden]):not([disabled]), textarea, [role=combobox], select');
    input?.focus({ preventScroll: true });
  }, 50);
}
