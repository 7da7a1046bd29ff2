import { describe, expect, it } from 'vitest';
import { cameraProblem, createRepeatFilter, extractCode, REPEAT_MS } from './scan';

const CODE = 'AC0123456789ABCDEF';

describe('the check-in code in a QR code', () => {
  it('is the whole text, trimmed and upper-cased', () => {
    expect(extractCode(CODE)).toBe(CODE);
    expect(extractCode(`  ${CODE.toLowerCase()}\n`)).toBe(CODE);
  });

  it('is found inside a longer text', () => {
    expect(extractCode(`https://example.com/checkin?code=${CODE}`)).toBe(CODE);
    expect(extractCode(`code: ${CODE}.`)).toBe(CODE);
  });

  it('is not there in other QR codes', () => {
    expect(extractCode('https://example.com/m/shop')).toBeUndefined();
    expect(extractCode('M-000123')).toBeUndefined();
    expect(extractCode('')).toBeUndefined();
    // Too short, too long, or letters base 32 leaves out.
    expect(extractCode(CODE.slice(0, -1))).toBeUndefined();
    expect(extractCode(`${CODE}0`)).toBeUndefined();
    expect(extractCode('AC0123456789ABCDEU')).toBeUndefined();
    expect(extractCode(`X${CODE}`)).toBeUndefined();
  });
});

describe('reading the same code again', () => {
  it('takes a code once while it stays in front of the camera', () => {
    const f = createRepeatFilter(4_000);
    expect(f.accept('A', 0)).toBe(true);
    expect(f.accept('A', 200)).toBe(false);
    // Each read keeps it remembered: held for 10 seconds, still once.
    for (let t = 400; t <= 10_000; t += 200) expect(f.accept('A', t)).toBe(false);
  });

  it('takes it again after a pause, and other codes at once', () => {
    const f = createRepeatFilter(4_000);
    expect(f.accept('A', 0)).toBe(true);
    expect(f.accept('B', 100)).toBe(true);
    expect(f.accept('A', 3_999)).toBe(false);
    expect(f.accept('A', 8_000)).toBe(true);
    expect(f.accept('B', 8_000)).toBe(true);
  });

  it('takes a forgotten code again', () => {
    const f = createRepeatFilter();
    expect(f.accept('A', 0)).toBe(true);
    f.forget('A');
    expect(f.accept('A', 1)).toBe(true);
    expect(f.accept('A', REPEAT_MS - 1)).toBe(false);
  });
});

describe('why the camera cannot be used', () => {
  it('tells refusal, a busy camera and none apart', () => {
    expect(cameraProblem(new DOMException('no', 'NotAllowedError'))).toBe('denied');
    expect(cameraProblem({ name: 'SecurityError' })).toBe('denied');
    expect(cameraProblem({ name: 'NotReadableError' })).toBe('busy');
    expect(cameraProblem({ name: 'NotFoundError' })).toBe('none');
    expect(cameraProblem({ name: 'OverconstrainedError' })).toBe('none');
    expect(cameraProblem(undefined)).toBe('none');
  });
});
