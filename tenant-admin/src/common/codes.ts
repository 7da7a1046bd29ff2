// Codes made from a name, so an owner never has to invent one: tier codes, field keys,
// option values, role names and event names come from the Chinese (or English) name typed,
// as pinyin words joined by `_` (黄金会员 -> huang_jin_hui_yuan), or their initials (hjhy)
// when the words are too long for the code, made unique among the codes already taken.
// The pinyin dictionary is large, so it is loaded only when a name with Chinese in it is
// first typed (see `loadPinyin`); everything else here is pure.

/** What a code may look like where it is used. */
export interface CodeRules {
  /** Longest code the server accepts. */
  max: number;
  /** Shortest code the server accepts (2 for role names). */
  min?: number;
  /** Used when the name gives nothing usable (no letters or digits): `tier` -> `tier_1`. */
  fallback: string;
  /** Names the server keeps for itself (built-in fields, roles). */
  reserved?: readonly string[];
}

/** Splits a name into words: pinyin syllables for Chinese characters, else Latin words. */
export type Syllables = (name: string) => string[];

const HAN = /[\u3400-\u9fff\uf900-\ufaff]/;

/** True when the name has a Chinese character, so it needs the pinyin dictionary. */
export function hasChinese(name: string): boolean {
  return HAN.test(name);
}

/** Latin words of a text, without accents (ü -> v, as pinyin is typed), lowercased. */
export function latinWords(text: string): string[] {
  return text
    .replace(/ü/gi, 'v')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/**
 * The code for a name, unique among `taken`: the words joined with `_`; their initials when
 * that is too long; a number after the code when it is taken (`_2`, `_3`, ...); the
 * fallback and a number when the name has no usable word. Starts with a letter.
 */
export function codeFromWords(words: readonly string[], rules: CodeRules, taken: Iterable<string> = []): string {
  const used = new Set<string>([...taken, ...(rules.reserved ?? [])]);
  const clean = words.flatMap((w) => latinWords(w));
  const min = rules.min ?? 1;
  // Room for a `_99` suffix, so a taken code can still be told apart.
  const room = rules.max - 3;
  let base = clean.join('_');
  if (base.length > room) {
    // Initials of Chinese syllables, but keep Latin words and numbers whole where they fit.
    base = clean.map((w) => (/^\d+$/.test(w) ? w : w[0])).join('');
    if (base.length > room) base = base.slice(0, room);
  }
  if (base && !/^[a-z]/.test(base)) base = `${rules.fallback}_${base}`.slice(0, room);
  if (!base || base.length < min) return numbered(rules.fallback, used, rules.max, 1);
  if (!used.has(base)) return base;
  return numbered(base, used, rules.max, 2);
}

function numbered(base: string, used: Set<string>, max: number, from: number): string {
  for (let n = from; ; n++) {
    const suffix = `_${n}`;
    const code = base.slice(0, max - suffix.length) + suffix;
    if (!used.has(code)) return code;
  }
}

/** The code for a name with the given syllable splitter (see `codeFromName`). */
export function codeFromNameWith(syllables: Syllables, name: string, rules: CodeRules, taken: Iterable<string> = []): string {
  return codeFromWords(syllables(name), rules, taken);
}

/** Latin words only: what a name without Chinese splits into. */
export const latinSyllables: Syllables = (name) => latinWords(name);

let loading: Promise<Syllables> | undefined;

/** The pinyin splitter, loaded once on first use (its dictionary is a separate file). */
export function loadPinyin(): Promise<Syllables> {
  loading ??= import('pinyin-pro').then(({ pinyin }) => (name: string) =>
    pinyin(name, { toneType: 'none', type: 'array', nonZh: 'consecutive', v: true }).flatMap((w) => latinWords(w)),
  );
  return loading;
}

/** The code for a name: pinyin for Chinese (loading the dictionary when needed), else its words. */
export async function codeFromName(name: string, rules: CodeRules, taken: Iterable<string> = []): Promise<string> {
  const split = hasChinese(name) ? await loadPinyin() : latinSyllables;
  return codeFromNameWith(split, name, rules, taken);
}

/** Where codes are used, with the server's limits. */
export const CODE_RULES = {
  /** Tier codes: 1–32 of a-z, 0-9, _. */
  tier: { max: 32, fallback: 'tier' },
  /** Custom field keys: 1–40, a letter first, not a built-in field. */
  field: {
    max: 40,
    fallback: 'field',
    reserved: [
      'name', 'phone', 'email', 'gender', 'birthday', 'join_date', 'home_store', 'tags', 'notes',
      'referrer', 'referrer_id', 'card', 'card_number', 'id', 'status', 'password',
    ],
  },
  /** Option values of a select field: 1–100 characters (kept to code form here). */
  option: { max: 40, fallback: 'option' },
  /** Custom role names: 2–40, a letter first, not a built-in role. */
  role: { max: 40, min: 2, fallback: 'role', reserved: ['owner', 'manager', 'front_desk', 'marketer'] },
  /** Custom event names (`event.<name>`): 1–40, a letter first, not a built-in trigger. */
  event: { max: 40, fallback: 'event', reserved: ['purchase', 'check_in', 'referral', 'birthday'] },
} satisfies Record<string, CodeRules>;
