// Compile errors from the API (line and column, counted from 1) as ranges of the script
// text, in the shape CodeMirror's lint extension takes. Kept free of CodeMirror so it can be
// tested on plain strings.

export interface RuleFailure {
  kind: string;
  message: string;
  line?: number | null;
  column?: number | null;
  limit?: string | null;
}

export interface TextDiagnostic {
  from: number;
  to: number;
  severity: 'error' | 'warning';
  message: string;
}

/** Offsets where each line starts. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  return starts;
}

/**
 * The range a failure points at: from its column to the end of the word there (or one
 * character), the whole line when there is no column, the end of the script when the line is
 * past its end (Rhai reports a missing `}` there), and the first line when there is no line.
 */
export function failureRange(text: string, line?: number | null, column?: number | null): { from: number; to: number } {
  const starts = lineStarts(text);
  if (!line || line < 1) {
    const end = text.indexOf('\n');
    return { from: 0, to: end < 0 ? text.length : end };
  }
  if (line > starts.length) return { from: text.length, to: text.length };
  const start = starts[line - 1]!;
  const nl = text.indexOf('\n', start);
  const end = nl < 0 ? text.length : nl;
  if (!column || column < 1) return { from: start, to: end };
  const from = Math.min(start + column - 1, end);
  let to = from;
  while (to < end && /[A-Za-z0-9_]/.test(text[to]!)) to++;
  if (to === from) to = Math.min(from + 1, end);
  return { from, to };
}

/** A failure's message with where it is, for places without the editor. */
export function failureText(f: RuleFailure): string {
  if (f.line && f.column) return `${f.message} (${f.line}:${f.column})`;
  if (f.line) return `${f.message} (${f.line})`;
  return f.message;
}

/** The diagnostics for a validation's answer: none when it compiled. */
export function toDiagnostics(text: string, error: RuleFailure | null | undefined): TextDiagnostic[] {
  if (!error) return [];
  const { from, to } = failureRange(text, error.line, error.column);
  return [{ from, to, severity: 'error', message: error.message }];
}
