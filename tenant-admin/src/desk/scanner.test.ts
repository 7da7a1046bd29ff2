import { describe, expect, it } from 'vitest';
import { capturesKey } from './scanner';

const key = (k: string, mods: Partial<{ ctrlKey: boolean; metaKey: boolean; altKey: boolean }> = {}) => ({
  key: k,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  ...mods,
});

describe('scanner keystrokes', () => {
  it('takes printable keys typed on the page itself', () => {
    expect(capturesKey(key('P'), { tagName: 'BODY' }, false)).toBe(true);
    expect(capturesKey(key('7'), { tagName: 'DIV' }, false)).toBe(true);
    expect(capturesKey(key('7'), null, false)).toBe(true);
  });

  it('leaves typing in fields, shortcuts, named keys and open dialogs alone', () => {
    expect(capturesKey(key('7'), { tagName: 'INPUT' }, false)).toBe(false);
    expect(capturesKey(key('7'), { tagName: 'textarea' }, false)).toBe(false);
    expect(capturesKey(key('7'), { tagName: 'DIV', isContentEditable: true }, false)).toBe(false);
    expect(capturesKey(key('c', { ctrlKey: true }), { tagName: 'BODY' }, false)).toBe(false);
    expect(capturesKey(key('Enter'), { tagName: 'BODY' }, false)).toBe(false);
    expect(capturesKey(key('Tab'), { tagName: 'BODY' }, false)).toBe(false);
    expect(capturesKey(key('7'), { tagName: 'BODY' }, true)).toBe(false);
  });
});
