import { describe, expect, it } from 'vitest';
import {
  emptyForm,
  fixCodes,
  formItemOf,
  mapLadderErrors,
  moved,
  multiplierText,
  newTier,
  previewSeries,
  progressMessage,
  progressPercent,
  runPercent,
  thousandthsOf,
  toForm,
  toLadder,
  type Ladder,
} from './ladder';

const ladder: Ladder = {
  metric: 'spend',
  window: { kind: 'calendar_year', days: 0 },
  retention_days: 30,
  demotion: 'direct',
  tiers: [
    {
      code: 'basic',
      name: { 'zh-CN': '普通', en: 'Basic' },
      color: '#8c8c8c',
      threshold: 0,
      benefits: { multiplier: 1000, discount_percent: 0, birthday_gift_points: 0, perks: [] },
    },
    {
      code: 'gold',
      name: { 'zh-CN': '金卡', en: 'Gold' },
      color: '#c9a227',
      threshold: 500_000,
      benefits: {
        multiplier: 1500,
        discount_percent: 5,
        birthday_gift_points: 200,
        perks: [{ 'zh-CN': '免费停车', en: 'Free parking' }],
      },
    },
  ],
};

describe('ladder form', () => {
  it('round-trips a ladder through the form', () => {
    expect(toLadder(toForm(ladder))).toEqual(ladder);
  });

  it('shows spend thresholds in the currency and the multiplier as a factor', () => {
    const f = toForm(ladder);
    expect(f.tiers[1]!.threshold).toBe(5000);
    expect(f.tiers[1]!.multiplier).toBe(1.5);
    expect(f.tiers[1]!.perks).toEqual([{ zh: '免费停车', en: 'Free parking' }]);
  });

  it('keeps points thresholds as they are', () => {
    const f = { ...toForm(ladder), metric: 'points_earned' as const };
    expect(toLadder(f).tiers[1]!.threshold).toBe(5000);
  });

  it('converts the multiplier to thousandths', () => {
    expect(thousandthsOf(1.5)).toBe(1500);
    expect(thousandthsOf(1.2345)).toBe(1235);
    expect(thousandthsOf(null)).toBe(1000);
    expect(multiplierText(1500)).toBe('×1.5');
    expect(multiplierText(2000)).toBe('×2');
  });

  it('sends days only for a rolling window, and drops blank perks', () => {
    const f = emptyForm();
    f.tiers[0] = { ...f.tiers[0]!, code: ' basic ', name_zh: '普通', name_en: 'Basic', perks: [{ zh: '', en: ' ' }] };
    const l = toLadder(f);
    expect(l.window).toEqual({ kind: 'rolling', days: 365 });
    expect(l.tiers[0]!.code).toBe('basic');
    expect(l.tiers[0]!.benefits!.perks).toEqual([]);
    expect(toLadder({ ...f, window_kind: 'since_joining' }).window).toEqual({ kind: 'since_joining', days: 0 });
  });

  it('sends the tier script only when there is one', () => {
    const withScript = { ...ladder, script: 'if metrics.visits >= 12 { "gold" } else { "basic" }' };
    expect(toLadder(toForm(withScript))).toEqual(withScript);
    expect(toForm(ladder).script).toBe('');
    expect(toLadder({ ...toForm(ladder), script: '  \n' })).not.toHaveProperty('script');
    expect(formItemOf('ladder.script')).toEqual(['script']);
    expect(formItemOf('script')).toEqual(['script']);
  });

  it('moves a rung', () => {
    expect(moved(['a', 'b', 'c'], 2, 1)).toEqual(['a', 'c', 'b']);
    expect(moved(['a', 'b'], 0, 5)).toEqual(['a', 'b']);
  });
});

describe('server field paths', () => {
  it('land on the right input', () => {
    expect(formItemOf('tiers[2].threshold')).toEqual(['tiers', 2, 'threshold']);
    expect(formItemOf('ladder.tiers[0].name.zh-CN')).toEqual(['tiers', 0, 'name_zh']);
    expect(formItemOf('tiers[1].benefits.multiplier')).toEqual(['tiers', 1, 'multiplier']);
    expect(formItemOf('tiers[1].benefits.perks[3].en')).toEqual(['tiers', 1, 'perks', 3, 'en']);
    expect(formItemOf('window.days')).toEqual(['window_days']);
    expect(formItemOf('tiers')).toBeUndefined();
  });

  it('groups problems by item and keeps the rest as text', () => {
    const r = mapLadderErrors([
      { field: 'tiers[2].threshold', problem: 'must be higher than the tier below' },
      { field: 'tiers[2].threshold', problem: 'too large' },
      { field: 'tiers', problem: 'at most 20 tiers' },
    ]);
    expect(r.fields).toEqual([
      { name: ['tiers', 2, 'threshold'], errors: ['must be higher than the tier below', 'too large'] },
    ]);
    expect(r.rest).toEqual(['tiers: at most 20 tiers']);
  });
});

describe('preview chart', () => {
  it('puts the draft rungs first, then tiers only the current ladder has', () => {
    const s = previewSeries(
      {
        now: [
          { code: 'basic', name: { 'zh-CN': '普通', en: 'Basic' }, color: '#111111', members: 10 },
          { code: 'vip', name: { 'zh-CN': '贵宾', en: 'VIP' }, color: '#222222', members: 2 },
        ],
        draft: [
          { code: 'basic', name: { 'zh-CN': '普通', en: 'Basic' }, color: '#111111', members: 8 },
          { code: 'gold', name: { 'zh-CN': '金卡', en: 'Gold' }, color: '#333333', members: 4 },
        ],
      },
      'en',
    );
    expect(s.codes).toEqual(['basic', 'gold', 'vip']);
    expect(s.labels).toEqual(['Basic', 'Gold', 'VIP']);
    expect(s.now).toEqual([10, 0, 2]);
    expect(s.draft).toEqual([8, 4, 0]);
  });

  it('names tiers in Chinese for zh-CN', () => {
    const s = previewSeries({ now: [], draft: [{ code: 'gold', name: { 'zh-CN': '金卡', en: 'Gold' }, color: '#333333', members: 1 }] }, 'zh-CN');
    expect(s.labels).toEqual(['金卡']);
  });
});

describe('progress', () => {
  const money = (minor: number) => `¥${minor / 100}`;
  const next = { code: 'gold', name: { 'zh-CN': '金卡', en: 'Gold' }, threshold: 100_000, remaining: 32_000 };

  it('says spend in money with the window end', () => {
    expect(progressMessage({ metric: 'spend', next, by: '2027-12-31' }, 'en', money)).toEqual({
      key: 'tiers.progress.moreBy.spend',
      values: { amount: '¥320', tier: 'Gold', by: '2027-12-31' },
    });
  });

  it('says points plainly, without a date for rolling windows', () => {
    expect(progressMessage({ metric: 'points_earned', next: { ...next, remaining: 320 } }, 'zh-CN', money)).toEqual({
      key: 'tiers.progress.more.points_earned',
      values: { amount: '320', tier: '金卡' },
    });
    expect(progressMessage({ metric: 'visits' }, 'en', money)).toBeUndefined();
  });

  it('measures the way to the next tier', () => {
    expect(progressPercent({ value: 68_000, keep_threshold: 0, next })).toBe(68);
    expect(progressPercent({ value: 5, keep_threshold: 0 })).toBe(100);
    expect(runPercent({ done: 50, total: 200, status: 'running' })).toBe(25);
    expect(runPercent({ done: 0, total: 0, status: 'done' })).toBe(100);
  });
});

describe('tier codes', () => {
  it('a new rung makes its code from its name; a loaded or saved one keeps it', () => {
    const fresh = newTier(1);
    expect(fresh.code_auto).toBe(true);
    expect(fresh.code_fixed).toBe(false);
    const loaded = toForm(toLadder({ ...emptyForm(), tiers: [{ ...newTier(0), code: 'yin_ka', name_zh: '银卡' }] }));
    expect(loaded.tiers[0]).toMatchObject({ code: 'yin_ka', code_auto: false, code_fixed: true });
    expect(fixCodes([fresh])[0]).toMatchObject({ code_auto: false, code_fixed: true });
  });

  it('the flags never reach the ladder document', () => {
    const doc = toLadder({ ...emptyForm(), tiers: [{ ...newTier(0), code: 'pu_tong', name_zh: '普通' }] });
    expect(Object.keys(doc.tiers[0]!).sort()).toEqual(['benefits', 'code', 'color', 'name', 'threshold']);
  });
});

describe('a tier birthday coupon', () => {
  it('goes into the ladder only when chosen and reads back', () => {
    const tpl = '0190f5a2-0000-7000-8000-000000000001';
    const doc = toLadder({
      ...emptyForm(),
      tiers: [
        { ...newTier(0), code: 'base', name_zh: '普通' },
        { ...newTier(1), code: 'gold', name_zh: '金卡', birthday_coupon_template_id: tpl },
      ],
    });
    expect(doc.tiers[0]!.benefits).not.toHaveProperty('birthday_coupon_template_id');
    expect(doc.tiers[1]!.benefits?.birthday_coupon_template_id).toBe(tpl);
    expect(toForm(doc).tiers[1]!.birthday_coupon_template_id).toBe(tpl);
  });
});
