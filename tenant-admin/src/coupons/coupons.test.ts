import { describe, expect, it } from 'vitest';
import { codesCsv, segmentPercent } from './api';
import { addCode, benefitText, MAX_CODES, reasonText, REASONS, templateBody, templateForm, type TemplateForm } from './terms';
import { english, zh } from '../i18n/resources';
import i18next from 'i18next';

const base: TemplateForm = {
  name: ' 满100减20 ',
  kind: 'threshold',
  amount: 20,
  min_spend: 100,
  percent: 30,
  validity: 'days',
  valid_days: 30,
  valid_from: '2026-01-01T00:00:00Z',
  stacking: 'combinable',
  on_refund: 'restore',
  categories: [' tea ', ''],
  total: 100,
};

describe('a template form', () => {
  it('sends money in fen and only the fields its kind reads', () => {
    const b = templateBody(base);
    expect(b.name).toBe('满100减20');
    expect(b.terms.amount).toBe(2000);
    expect(b.terms.min_spend).toBe(10000);
    expect(b.terms.percent).toBeUndefined();
    expect(b.terms.valid_days).toBe(30);
    expect(b.terms.valid_from).toBeUndefined();
    expect(b.terms.categories).toEqual(['tea']);
    expect(b.points_price).toBe(0);
  });

  it('reads back what it sent', () => {
    const b = templateBody({ ...base, kind: 'percent_off', percent: 15, cap: 30 });
    const back = templateForm({
      id: 'x', name: b.name, version: 2, terms: b.terms, total: 100, per_member: null, per_day: null,
      issued: 3, used: 1, claimable: false, points_price: 0, shared_code: null, archived: false,
      created_at: '', updated_at: '',
    } as never);
    expect(back.kind).toBe('percent_off');
    expect(back.percent).toBe(15);
    expect(back.cap).toBe(30);
    expect(back.validity).toBe('days');
  });
});

describe('what a coupon gives', () => {
  it('is said in words', async () => {
    const i = i18next.createInstance();
    await i.init({ lng: 'en', resources: { en: { translation: english } }, interpolation: { escapeValue: false } });
    const t = i.t.bind(i) as (k: string, o?: Record<string, unknown>) => string;
    const money = (m: number) => `¥${(m / 100).toFixed(2)}`;
    expect(benefitText(t, money, { kind: 'threshold', amount: 2000, min_spend: 10000 })).toBe('¥20.00 off from ¥100.00');
    expect(benefitText(t, money, { kind: 'percent_off', percent: 20, cap: 3000 })).toBe('20% off (at most ¥30.00)');
    expect(benefitText(t, money, { kind: 'gift', gift: 'Coffee' })).toBe('Free: Coffee');
  });
});

describe('the codes export', () => {
  it('quotes what needs quoting', () => {
    const csv = codesCsv([{ code: 'VIP-0001-AB,C', status: 'issued', valid_until: '2026-01-01' }], ['code', 'status', 'until']);
    expect(csv).toBe('\uFEFFcode,status,until\r\n"VIP-0001-AB,C",issued,2026-01-01\r\n');
  });
});

describe('segmentPercent', () => {
  it('shows a running issue by the members looked at, and an ended one as complete', () => {
    expect(segmentPercent({ status: 'running', done: 250, matched: 1000 })).toBe(25);
    expect(segmentPercent({ status: 'running', done: 1000, matched: 1000 })).toBe(99);
    expect(segmentPercent({ status: 'running', done: 0, matched: 0 })).toBe(0);
    expect(segmentPercent({ status: 'done', done: 0, matched: 0 })).toBe(100);
    expect(segmentPercent({ status: 'stopped', done: 10, matched: 1000 })).toBe(100);
  });
});

describe('codes typed at the till', () => {
  it('are read as the server reads them, once each, at most five', () => {
    expect(addCode([], '  vip-0001-ab ')).toEqual(['VIP-0001-AB']);
    expect(addCode(['VIP-0001-AB'], 'vip-0001-ab')).toEqual(['VIP-0001-AB']);
    expect(addCode(['A'], '   ')).toEqual(['A']);
    const full = ['A', 'B', 'C', 'D', 'E'];
    expect(full).toHaveLength(MAX_CODES);
    expect(addCode(full, 'F')).toEqual(full);
  });
});

describe('why a coupon does not apply', () => {
  it('is said in words in both languages for every reason the server gives', async () => {
    for (const [lng, translation] of [
      ['en', english],
      ['zh-CN', zh],
    ] as const) {
      const i = i18next.createInstance();
      await i.init({ lng, resources: { [lng]: { translation } }, interpolation: { escapeValue: false } });
      const t = i.t.bind(i) as (k: string) => string;
      const said = REASONS.map((r) => reasonText(t, r));
      // Each reason its own words, never the key or the code itself.
      expect(new Set(said).size).toBe(REASONS.length);
      for (const [n, r] of REASONS.entries()) {
        expect(said[n]).not.toContain('coupons.reason');
        expect(said[n]).not.toBe(r);
      }
      expect(reasonText(t, 'something_new')).toBe(reasonText(t, null));
    }
    const zhT = i18next.createInstance();
    await zhT.init({ lng: 'zh-CN', resources: { 'zh-CN': { translation: zh } } });
    expect(reasonText(zhT.t.bind(zhT) as (k: string) => string, 'min_spend')).toBe('未达到最低消费');
  });
});
