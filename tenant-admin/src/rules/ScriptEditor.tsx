// The Rhai editor: CodeMirror with Rust highlighting (close enough for Rhai) and the
// server's compile errors shown inline at their line and column as the user types.
import { useMemo, useRef } from 'react';
import CodeMirror from '@uiw/react-codemirror';
import { rust } from '@codemirror/lang-rust';
import { linter, lintGutter, type Diagnostic } from '@codemirror/lint';
import { validateRule } from './api';
import { toDiagnostics, type RuleFailure } from './diagnostics';

interface Props {
  value: string;
  onChange: (value: string) => void;
  readOnly?: boolean;
  /** Compile with the server as the user types (needs `rules:write`). */
  validate: boolean;
  /** Told the latest compile result (undefined: compiles). */
  onValidated?: (error: RuleFailure | undefined) => void;
  label: string;
  /** How to compile (default: as a point rule); answers the compile error, if any. */
  check?: (script: string) => Promise<RuleFailure | null | undefined>;
  testId?: string;
}

export function ScriptEditor({ value, onChange, readOnly, validate, onValidated, label, check, testId }: Props) {
  const report = useRef(onValidated);
  report.current = onValidated;
  const compile = useRef(check ?? validateRule);
  compile.current = check ?? validateRule;
  const extensions = useMemo(() => {
    const list = [rust(), lintGutter()];
    if (validate) {
      list.push(
        linter(
          async (view): Promise<Diagnostic[]> => {
            const text = view.state.doc.toString();
            if (!text.trim()) return [];
            let error: RuleFailure | null | undefined;
            try {
              error = await compile.current(text);
            } catch {
              return [];
            }
            // The document may have changed while the server answered; the linter runs again then.
            if (view.state.doc.toString() !== text) return [];
            report.current?.(error ?? undefined);
            return toDiagnostics(text, error);
          },
          { delay: 600 },
        ),
      );
    }
    return list;
  }, [validate]);
  return (
    <div data-testid={testId ?? 'rule-editor'} className="rule-editor" aria-label={label}>
      <CodeMirror
        value={value}
        onChange={onChange}
        readOnly={readOnly}
        extensions={extensions}
        minHeight="240px"
        maxHeight="560px"
        basicSetup={{ lineNumbers: true, foldGutter: false }}
      />
    </div>
  );
}
