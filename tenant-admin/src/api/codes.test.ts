// Every error code the server can answer has a text in both console languages: the codes
// are read from the server's Rust sources, so a new code without a translation fails here.
import { describe, expect, it } from 'vitest';
import { english, zh } from '../i18n/resources';

interface NodeFs {
  readdirSync(path: URL, options: { recursive: true }): string[];
  readFileSync(path: URL, encoding: 'utf8'): string;
  existsSync(path: URL): boolean;
}
const fs = (await import('node:fs' as string)) as NodeFs;

const PLATFORM = new URL('../../../platform/', import.meta.url);

function rustSources(): Map<string, string> {
  const out = new Map<string, string>();
  for (const crate of ['core', 'db', 'app', 'api', 'server']) {
    const dir = new URL(`${crate}/src/`, PLATFORM);
    if (!fs.existsSync(dir)) continue;
    for (const file of fs.readdirSync(dir, { recursive: true })) {
      if (file.endsWith('.rs')) out.set(`${crate}/src/${file}`, fs.readFileSync(new URL(file, dir), 'utf8'));
    }
  }
  return out;
}

/** The codes an error can carry, as the server's sources spell them. */
export function serverCodes(sources: Map<string, string>): Map<string, string> {
  const codes = new Map<string, string>();
  const add = (code: string, where: string) => {
    if (!codes.has(code)) codes.set(code, where);
  };
  for (const [file, text] of sources) {
    // Not the tests: they name codes to check them.
    const code = text.split(/\n#\[cfg\(test\)\]/)[0]!;
    // AppError::conflict("phone_taken", ..), ApiError::unauthorized("invalid_token", ..) ...
    for (const m of code.matchAll(/\b(?:AppError|ApiError)::(?:conflict|unauthorized|forbidden|too_many|unavailable)\(\s*"([a-z_]+)"/g)) {
      add(m[1]!, file);
    }
    // The plan's 402s: denial("feature_not_in_plan", ..), over(plan, "limit_reached") ...
    for (const m of code.matchAll(/\b(?:PlanDenial::new|denial|over)\(\s*(?:[a-z_&.]+,\s*)?"([a-z_]+)"/g)) add(m[1]!, file);
    // `fn code(&self)`: the fixed codes of the error types and of reports that refuse.
    for (const m of code.matchAll(/fn code\(&self\)[^{]*\{([\s\S]*?)\n {4}\}/g)) {
      for (const c of m[1]!.matchAll(/"([a-z_]+)"/g)) if (c[1] !== 'ok') add(c[1]!, file);
    }
    // Errors poem makes itself (bad JSON, missing credentials ...).
    for (const m of code.matchAll(/StatusCode::[A-Z_]+ => "([a-z_]+)"/g)) add(m[1]!, file);
  }
  return codes;
}

function text(tree: Record<string, unknown>, code: string): unknown {
  return (tree.errors as Record<string, unknown> | undefined)?.[code];
}

describe('server error codes', () => {
  const codes = serverCodes(rustSources());

  it('are found in the server sources', () => {
    for (const known of ['phone_taken', 'slug_taken', 'invalid_input', 'not_found', 'feature_not_in_plan', 'field_change_conflict', 'unauthenticated']) {
      expect([...codes.keys()]).toContain(known);
    }
    expect(codes.size).toBeGreaterThan(40);
  });

  it('each have a text in zh-CN and en', () => {
    const missing = [...codes]
      .filter(([code]) => typeof text(zh, code) !== 'string' || typeof text(english, code) !== 'string')
      .map(([code, file]) => `${code} (${file})`);
    expect(missing).toEqual([]);
  });
});

/** The codes a field problem can carry (`FieldCode::as_str`), the rules' and the formats'
 * stable words (`.with("reason", ..)`, `rule("..", ..)`, `invalid_format("..", ..)`). */
export function fieldCodes(sources: Map<string, string>): { codes: string[]; reasons: string[]; formats: string[] } {
  const problem = sources.get('core/src/problem.rs') ?? '';
  const asStr = /pub fn as_str\(self\)[^{]*\{([\s\S]*?)\n {4}\}/.exec(problem)?.[1] ?? '';
  const codes = [...asStr.matchAll(/=> "([a-z_]+)"/g)].map((m) => m[1]!);
  const reasons = new Set<string>();
  const formats = new Set<string>();
  for (const text of sources.values()) {
    const code = text.split(/\n#\[cfg\(test\)\]/)[0]!;
    for (const m of code.matchAll(/\.with\(\s*"reason",\s*"([a-z_]+)"/g)) reasons.add(m[1]!);
    for (const m of code.matchAll(/\brule\(\s*"([a-z_]+)"/g)) reasons.add(m[1]!);
    for (const m of code.matchAll(/invalid_format\(\s*"([a-z_]+)"/g)) formats.add(m[1]!);
    for (const m of code.matchAll(/\.with\(\s*"format",\s*"([a-z_]+)"/g)) formats.add(m[1]!);
  }
  return { codes, reasons: [...reasons], formats: [...formats] };
}

describe('field problem codes', () => {
  const { codes, reasons, formats } = fieldCodes(rustSources());
  const at = (tree: Record<string, unknown>, path: string[]): unknown =>
    path.reduce<unknown>((node, k) => (node as Record<string, unknown> | undefined)?.[k], tree);

  it('are found in the server sources', () => {
    for (const known of ['required', 'too_long', 'not_a_phone', 'not_a_cursor']) expect(codes).toContain(known);
    expect(reasons).toContain('self_referral');
    expect(formats).toContain('slug');
  });

  it('each have a text in zh-CN and en', () => {
    const wanted = [
      ...codes.map((c) => ['fieldErrors', c]),
      ...reasons.map((r) => ['fieldErrors', 'reasons', r]),
      ...formats.map((f) => ['fieldErrors', 'formats', f]),
    ];
    const missing = wanted
      .filter((path) => typeof at(zh, path) !== 'string' || typeof at(english, path) !== 'string')
      .map((path) => path.join('.'));
    expect(missing).toEqual([]);
  });
});

describe('reason codes', () => {
  const sources = rustSources();
  const reasons = sources.get('core/src/reasons.rs') ?? '';
  const list = /pub const CODES[^=]*= &\[([\s\S]*?)\];/.exec(reasons)?.[1] ?? '';
  const codes = [...list.matchAll(/"([a-z_]+)"/g)].map((m) => m[1]!);

  it('each have a text in zh-CN and en', () => {
    expect(codes).toContain('ladder_published');
    const missing = codes.filter(
      (c) =>
        typeof (zh.reasons as Record<string, unknown> | undefined)?.[c] !== 'string' ||
        typeof (english.reasons as Record<string, unknown> | undefined)?.[c] !== 'string',
    );
    expect(missing).toEqual([]);
  });
});
