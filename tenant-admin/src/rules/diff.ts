// A line diff of two rule versions, for the versions view.
import { diffLines } from 'diff';

export interface DiffRow {
  kind: 'same' | 'added' | 'removed';
  text: string;
  /** Line number in the old text (same and removed rows). */
  oldLine?: number;
  /** Line number in the new text (same and added rows). */
  newLine?: number;
}

export function lineDiff(oldText: string, newText: string): DiffRow[] {
  const rows: DiffRow[] = [];
  let oldLine = 1;
  let newLine = 1;
  for (const part of diffLines(oldText, newText)) {
    const lines = part.value.replace(/\n$/, '').split('\n');
    for (const text of lines) {
      if (part.added) rows.push({ kind: 'added', text, newLine: newLine++ });
      else if (part.removed) rows.push({ kind: 'removed', text, oldLine: oldLine++ });
      else rows.push({ kind: 'same', text, oldLine: oldLine++, newLine: newLine++ });
    }
  }
  return rows;
}

/** How many lines were added and removed. */
export function diffStats(rows: readonly DiffRow[]): { added: number; removed: number } {
  return {
    added: rows.filter((r) => r.kind === 'added').length,
    removed: rows.filter((r) => r.kind === 'removed').length,
  };
}
