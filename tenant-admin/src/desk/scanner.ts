// A USB barcode scanner is a keyboard: it types the code and presses Enter. On the desk page
// keystrokes typed while nothing editable has the focus are sent to the lookup box, so a
// scan lands there wherever the clerk last clicked.

export interface KeyLike {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
}

export interface TargetLike {
  tagName?: string;
  isContentEditable?: boolean;
}

/** Whether a keystroke should be redirected to the lookup box. */
export function capturesKey(e: KeyLike, target: TargetLike | null, dialogOpen: boolean): boolean {
  if (dialogOpen || e.ctrlKey || e.metaKey || e.altKey) return false;
  if (e.key.length !== 1) return false;
  if (target?.isContentEditable) return false;
  const tag = (target?.tagName ?? '').toUpperCase();
  return !['INPUT', 'TEXTAREA', 'SELECT', 'BUTTON'].includes(tag);
}
