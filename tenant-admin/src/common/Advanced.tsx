// Depth behind 「高级」: a collapsed section for what most owners never need to see (codes,
// keys, scripts), opened by a click or by a problem found in it; and the hook that keeps a
// code made from a name until the owner edits the code or it is saved.
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { Collapse } from 'antd';
import { useTranslation } from 'react-i18next';
import { codeFromName, type CodeRules } from './codes';

/**
 * A collapsed 「高级」 section. Its content is rendered while closed (form items inside stay
 * registered); `forceOpen` opens it, e.g. when a field inside has a problem.
 */
export function Advanced({
  children,
  forceOpen,
  testId,
  title,
}: {
  children: ReactNode;
  forceOpen?: boolean;
  testId?: string;
  title?: ReactNode;
}) {
  const { t } = useTranslation();
  const [open, setOpen] = useState(false);
  useEffect(() => {
    if (forceOpen) setOpen(true);
  }, [forceOpen]);
  return (
    <Collapse
      ghost
      size="small"
      className="advanced-section"
      activeKey={open ? ['advanced'] : []}
      onChange={(keys) => setOpen((Array.isArray(keys) ? keys : [keys]).includes('advanced'))}
      data-testid={testId}
      items={[{ key: 'advanced', label: title ?? t('advanced.title'), forceRender: true, children }]}
    />
  );
}

/**
 * Calls `set` with the code made from `name` whenever the name changes, while `auto` holds
 * (a new thing whose code the owner has not typed). Answers arrive in order: a slower one
 * for an older name is dropped.
 */
export function useCodeFromName(
  name: string,
  auto: boolean,
  rules: CodeRules,
  taken: readonly string[],
  set: (code: string) => void,
) {
  const seq = useRef(0);
  const setRef = useRef(set);
  setRef.current = set;
  const takenKey = taken.join('\u0000');
  useEffect(() => {
    if (!auto || !name.trim()) return;
    const mine = ++seq.current;
    void codeFromName(name, rules, takenKey ? takenKey.split('\u0000') : []).then((code) => {
      if (mine === seq.current) setRef.current(code);
    });
  }, [name, auto, rules, takenKey]);
}
