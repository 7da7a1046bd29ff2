// The tier ladder editor's logic, free of React: the form's values <-> the ladder document
// the API takes, the multiplier (typed as 1.5, stored in thousandths), spend thresholds
// (typed in the currency, stored in minor units), the server's field paths
// (`tiers[2].threshold`) onto form items, and the chart series of a preview.
import type { Schemas } from '../api/client';
import type { NamePath } from '../api/errors';
import { nameIn } from '../common/format';

export type Ladder = Schemas['TierLadder'];
export type Metric = Schemas['TierMetric'];
export type WindowKind = Schemas['TierWindowKind'];
export type Demotion = Schemas['TierDemotion'];
type TierDoc = Schemas['TierDefinition'];
type Names = Schemas['TierNames'];

export interface PerkForm {
  zh?: string;
  en?: string;
}

export interface TierForm {
  code?: string;
  /** The code is made from the name (a new tier whose code was not typed). */
  code_auto?: boolean;
  /** The code was saved: it can no longer change. */
  code_fixed?: boolean;
  name_zh?: string;
  name_en?: string;
  /** `#rrggbb`. */
  color?: string;
  /** In the metric's unit as typed: yuan for spend, else points or visits. */
  threshold?: number | null;
  /** ×1.5 is 1.5. */
  multiplier?: number | null;
  discount_percent?: number | null;
  birthday_gift_points?: number | null;
  /** A coupon template given on the member's birthday, once a year. */
  birthday_coupon_template_id?: string | null;
  perks?: PerkForm[];
}

export interface LadderForm {
  metric: Metric;
  window_kind: WindowKind;
  window_days?: number | null;
  retention_days?: number | null;
  demotion: Demotion;
  tiers: TierForm[];
  /** The optional Rhai script that decides the tier ('' for none). */
  script?: string;
}

/** Colours offered for new tiers, bottom rung first. */
export const PALETTE = ['#8c8c8c', '#a0a7b4', '#c9a227', '#5b6ee1', '#13c2c2', '#eb2f96'];

/** ×1.5 from 1500 thousandths. */
export function multiplierOf(thousandths: number): number {
  return thousandths / 1000;
}

/** 1500 thousandths from ×1.5 (rounded to a whole thousandth). */
export function thousandthsOf(multiplier: number | null | undefined): number {
  if (multiplier === null || multiplier === undefined || Number.isNaN(multiplier)) return 1000;
  return Math.round(multiplier * 1000);
}

/** `×1.5`, `×2`, `×1.25`. */
export function multiplierText(thousandths: number): string {
  return `×${Number((thousandths / 1000).toFixed(3))}`;
}

/** Threshold as stored (minor units for spend) from what was typed. */
export function thresholdOf(typed: number | null | undefined, metric: Metric, digits = 2): number {
  const v = typed ?? 0;
  return metric === 'spend' ? Math.round(v * 10 ** digits) : Math.round(v);
}

/** Threshold as typed from what is stored. */
export function thresholdTyped(stored: number, metric: Metric, digits = 2): number {
  return metric === 'spend' ? stored / 10 ** digits : stored;
}

/** A new rung above `below` (or the first one). */
export function newTier(index: number, below?: TierForm): TierForm {
  const step = below?.threshold ? below.threshold * 2 : 1000;
  return {
    code: '',
    code_auto: true,
    code_fixed: false,
    name_zh: '',
    name_en: '',
    color: PALETTE[index % PALETTE.length],
    threshold: index === 0 ? 0 : step,
    multiplier: 1,
    discount_percent: 0,
    birthday_gift_points: 0,
    perks: [],
  };
}

/** What the editor starts from when the business has neither a draft nor a ladder. */
export function emptyForm(): LadderForm {
  return {
    metric: 'points_earned',
    window_kind: 'rolling',
    window_days: 365,
    retention_days: 90,
    demotion: 'one_rung',
    tiers: [newTier(0)],
  };
}

/** The editor's values for a ladder. */
export function toForm(ladder: Ladder, digits = 2): LadderForm {
  return {
    metric: ladder.metric,
    window_kind: ladder.window.kind,
    window_days: ladder.window.kind === 'rolling' ? ladder.window.days ?? 365 : 365,
    retention_days: ladder.retention_days ?? 0,
    demotion: ladder.demotion,
    tiers: ladder.tiers.map((t) => ({
      code: t.code,
      code_auto: false,
      code_fixed: true,
      name_zh: t.name['zh-CN'],
      name_en: t.name.en,
      color: t.color ?? '#8c8c8c',
      threshold: thresholdTyped(t.threshold, ladder.metric, digits),
      multiplier: multiplierOf(t.benefits?.multiplier ?? 1000),
      discount_percent: t.benefits?.discount_percent ?? 0,
      birthday_gift_points: t.benefits?.birthday_gift_points ?? 0,
      birthday_coupon_template_id: t.benefits?.birthday_coupon_template_id ?? undefined,
      perks: (t.benefits?.perks ?? []).map((p) => ({ zh: p['zh-CN'], en: p.en })),
    })),
    script: ladder.script ?? '',
  };
}

const trim = (s: string | undefined) => (s ?? '').trim();

/** The editor's tiers after a save: every code is now fixed. */
export function fixCodes(tiers: readonly TierForm[]): TierForm[] {
  return tiers.map((t) => ({ ...t, code_auto: false, code_fixed: true }));
}

/** The ladder document for the editor's values. */
export function toLadder(form: LadderForm, digits = 2): Ladder {
  const metric = form.metric;
  return {
    metric,
    window:
      form.window_kind === 'rolling'
        ? { kind: 'rolling', days: form.window_days ?? 0 }
        : { kind: form.window_kind, days: 0 },
    retention_days: form.retention_days ?? 0,
    demotion: form.demotion,
    tiers: (form.tiers ?? []).map(
      (t): TierDoc => ({
        code: trim(t.code),
        name: { 'zh-CN': trim(t.name_zh), en: trim(t.name_en) },
        color: trim(t.color) || '#8c8c8c',
        threshold: thresholdOf(t.threshold, metric, digits),
        benefits: {
          multiplier: thousandthsOf(t.multiplier),
          discount_percent: t.discount_percent ?? 0,
          birthday_gift_points: t.birthday_gift_points ?? 0,
          ...(t.birthday_coupon_template_id ? { birthday_coupon_template_id: t.birthday_coupon_template_id } : {}),
          perks: (t.perks ?? [])
            .filter((p) => trim(p.zh) || trim(p.en))
            .map((p): Names => ({ 'zh-CN': trim(p.zh), en: trim(p.en) })),
        },
      }),
    ),
    ...(trim(form.script) ? { script: form.script } : {}),
  };
}

/**
 * The form item of a server field path, or undefined when the form has no such item.
 * `ladder.` (preview and publish) is dropped; `tiers[2].threshold` -> ['tiers', 2,
 * 'threshold'], `tiers[0].name.zh-CN` -> ['tiers', 0, 'name_zh'],
 * `tiers[1].benefits.perks[0].en` -> ['tiers', 1, 'perks', 0, 'en'].
 */
export function formItemOf(field: string): NamePath | undefined {
  const path = field.replace(/^ladder\./, '');
  switch (path) {
    case 'metric':
      return ['metric'];
    case 'window.kind':
    case 'window':
      return ['window_kind'];
    case 'window.days':
      return ['window_days'];
    case 'retention_days':
      return ['retention_days'];
    case 'demotion':
      return ['demotion'];
    case 'script':
      return ['script'];
  }
  const m = /^tiers\[(\d+)\]\.(.+)$/.exec(path);
  if (!m) return undefined;
  const i = Number(m[1]);
  const rest = m[2]!;
  const simple: Record<string, string> = {
    code: 'code',
    'name.zh-CN': 'name_zh',
    'name.en': 'name_en',
    color: 'color',
    threshold: 'threshold',
    'benefits.multiplier': 'multiplier',
    'benefits.discount_percent': 'discount_percent',
    'benefits.birthday_gift_points': 'birthday_gift_points',
    'benefits.birthday_coupon_template_id': 'birthday_coupon_template_id',
  };
  if (simple[rest]) return ['tiers', i, simple[rest]];
  const perk = /^benefits\.perks\[(\d+)\]\.(zh-CN|en)$/.exec(rest);
  if (perk) return ['tiers', i, 'perks', Number(perk[1]), perk[2] === 'zh-CN' ? 'zh' : 'en'];
  return undefined;
}

/** Server field problems on the editor's items; the rest (`tiers`: none given) as text. */
export function mapLadderErrors(fields: readonly { field: string; problem: string }[]): {
  fields: { name: NamePath; errors: string[] }[];
  rest: string[];
} {
  const byItem = new Map<string, { name: NamePath; errors: string[] }>();
  const rest: string[] = [];
  for (const { field, problem } of fields) {
    const name = formItemOf(field);
    if (!name) {
      rest.push(field ? `${field}: ${problem}` : problem);
      continue;
    }
    const key = JSON.stringify(name);
    const item = byItem.get(key) ?? { name, errors: [] };
    item.errors.push(problem);
    byItem.set(key, item);
  }
  return { fields: [...byItem.values()], rest };
}

export { nameIn };

export interface PreviewSeries {
  /** One category per tier: the draft's rungs in order, then tiers only the current ladder has. */
  codes: string[];
  labels: string[];
  colors: string[];
  now: number[];
  draft: number[];
}

/** The bars of the now-vs-draft chart of a preview. */
export function previewSeries(p: Pick<Schemas['TierPreview'], 'now' | 'draft'>, lang: string): PreviewSeries {
  const order: Schemas['TierCount'][] = [...p.draft];
  for (const c of p.now) if (!order.some((o) => o.code === c.code)) order.push(c);
  const count = (list: Schemas['TierCount'][], code: string) => list.find((c) => c.code === code)?.members ?? 0;
  return {
    codes: order.map((c) => c.code),
    labels: order.map((c) => nameIn(c.name, lang) || c.code),
    colors: order.map((c) => c.color),
    now: order.map((c) => count(p.now, c.code)),
    draft: order.map((c) => count(p.draft, c.code)),
  };
}

/** Share of a re-evaluation done, 0-100. */
export function runPercent(run: Pick<Schemas['TierRunView'], 'done' | 'total' | 'status'>): number {
  if (run.status === 'done') return 100;
  if (run.total <= 0) return 0;
  return Math.min(100, Math.floor((run.done / run.total) * 100));
}

/** The rung list with one moved from `from` to `to` (for reordering). */
export function moved<T>(list: readonly T[], from: number, to: number): T[] {
  const out = [...list];
  if (from < 0 || from >= out.length || to < 0 || to >= out.length) return out;
  const [item] = out.splice(from, 1);
  out.splice(to, 0, item as T);
  return out;
}

/**
 * What a member still needs, as the i18n key and values of a sentence: "spend ¥320.00 more
 * by 2027-12-31 to reach Gold". `money` formats minor units; points and visits stay plain.
 */
export function progressMessage(
  p: Pick<Schemas['TierProgress'], 'metric' | 'next' | 'by'>,
  lang: string,
  money: (minor: number) => string,
): { key: string; values: Record<string, string> } | undefined {
  if (!p.next) return undefined;
  const amount = p.metric === 'spend' ? money(p.next.remaining) : String(p.next.remaining);
  const values: Record<string, string> = { amount, tier: nameIn(p.next.name, lang) || p.next.code };
  if (p.by) values.by = p.by;
  return { key: `tiers.progress.${p.by ? 'moreBy' : 'more'}.${p.metric}`, values };
}

/** A metric value as shown: money for spend, plain for points and visits. */
export function metricValue(metric: Metric, value: number, money: (minor: number) => string): string {
  return metric === 'spend' ? money(value) : String(value);
}

/** Share of the way from the current tier's threshold to the next one's, 0-100. */
export function progressPercent(p: Pick<Schemas['TierProgress'], 'value' | 'next' | 'keep_threshold'>): number {
  if (!p.next) return 100;
  const span = p.next.threshold - p.keep_threshold;
  if (span <= 0) return 0;
  return Math.max(0, Math.min(100, Math.floor(((p.value - p.keep_threshold) / span) * 100)));
}
