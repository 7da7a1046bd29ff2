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
