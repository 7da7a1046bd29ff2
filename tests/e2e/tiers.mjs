// End-to-end steps for the tiers pages, called by console.mjs with a page logged in as the
// business owner. A three-tier ladder on points earned is built in the editor (a threshold
// lower than the tier below is refused on that very input, then fixed), previewed (the chart
// drawn), published, and the re-evaluation of every member is seen to finish. Then, for a
// member who earned 328 points, the member page shows the middle tier and what it takes to
// reach the top one. Works in either console language: it goes by element ids and test ids.

import { api } from './desk.mjs';
import { setUp } from './coupons.mjs';
import { assertNoLeaks } from './leaks.mjs';

/** Waits until `locator`'s text matches `re`. */
async function waitText(locator, re, what) {
  const until = Date.now() + 30_000;
  let last = '';
  while (Date.now() < until) {
    last = (await locator.textContent().catch(() => '')) ?? '';
    if (re.test(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what}: expected ${re}, got ${JSON.stringify(last.slice(0, 300))}`);
}

/** Fills a rung by its names: its code is made from the Chinese name, never typed. */
async function fillTier(page, i, { zh, en, threshold, multiplier }) {
  await page.fill(`#ladder_tiers_${i}_name_zh`, zh);
  await page.fill(`#ladder_tiers_${i}_name_en`, en);
  if (threshold !== undefined) await page.fill(`#ladder_tiers_${i}_threshold`, String(threshold));
  if (multiplier !== undefined) await page.fill(`#ladder_tiers_${i}_multiplier`, String(multiplier));
}

/**
 * `expect(re)` tells the caller's console watch that the browser will log an error matching
 * `re` (the refused draft's 422).
 */
export async function tierSteps({ page, step, base, expect = () => {} }) {
  await step('tiers-editor', page, async () => {
    await page.goto(`${base}/tiers`);
    await page.locator('[data-testid=tiers-status]').waitFor();
    await page.locator('#ladder_tiers_0_name_zh').waitFor();
    // Codes are out of sight, under 高级.
    if (await page.locator('#ladder_tiers_0_code').isVisible()) throw new Error('the tier code is shown before 高级 is opened');
    // Back to a single rung, whatever a draft held.
    while ((await page.locator('[data-testid=tier-1-remove]').count()) > 0) {
      await page.click('[data-testid=tier-1-remove]');
    }
    await fillTier(page, 0, { zh: '普通', en: 'Basic' });
    await page.click('[data-testid=tiers-add]');
    await page.click('[data-testid=tiers-add]');
    await fillTier(page, 1, { zh: '银卡', en: 'Silver', threshold: 100, multiplier: 1.2 });
    // Lower than the tier below: the server names tiers[2].threshold.
    await fillTier(page, 2, { zh: '金卡', en: 'Gold', threshold: 50, multiplier: 1.5 });
    await page.fill('#ladder_tiers_2_discount_percent', '5');
  });

  await step('tiers-field-error', page, async () => {
    expect(/status of 422/);
    await page.click('[data-testid=tiers-save]');
    const item = page.locator('.ant-form-item', { has: page.locator('#ladder_tiers_2_threshold') });
    await item.locator('.ant-form-item-explain-error').waitFor();
    await page.fill('#ladder_tiers_2_threshold', '1000');
    await page.click('[data-testid=tiers-save]');
    await item.locator('.ant-form-item-explain-error').waitFor({ state: 'detached' });
    await page.locator('[data-testid=tiers-problem]').waitFor({ state: 'detached' });
  });

  await step('tiers-codes-from-names', page, async () => {
    // Saved with codes made from the Chinese names; under 高级 they show, fixed.
    for (const [i, code] of [[0, 'pu_tong'], [1, 'yin_ka'], [2, 'jin_ka']]) {
      await page.click(`[data-testid=tier-${i}-advanced] .ant-collapse-header`);
      const input = page.locator(`#ladder_tiers_${i}_code`);
      await input.waitFor();
      const value = await input.inputValue();
      if (value !== code) throw new Error(`tier ${i}: code ${JSON.stringify(value)}, expected ${code}`);
      if (!(await input.isDisabled())) throw new Error(`tier ${i}: a saved code can still be changed`);
    }
  });

  await step('tiers-preview', page, async () => {
    await page.click('[data-testid=tiers-preview]');
    await page.locator('[data-testid=tiers-preview-chart] canvas').waitFor();
    await page.locator('[data-testid=tiers-preview-moves]').waitFor();
  });

  await step('tiers-published', page, async () => {
    await page.click('[data-testid=tiers-publish]');
    await page.click('[data-testid=tiers-publish-confirm]');
    await page.locator('[data-testid=tiers-run][data-status=done]').waitFor({ timeout: 60_000 });
    await waitText(page.locator('[data-testid=tiers-versions]'), /v\d+/, 'published version');
    await waitText(page.locator('[data-testid=tiers-status]'), /(Gold|金卡)/, 'counts per tier');
  });
}

/** The member page's tier tab for a member with 328 points earned under the ladder above. */
export async function memberTierStep({ page, step, base, memberId }) {
  await step('member-tier', page, async () => {
    await page.goto(`${base}/members/${memberId}`);
    await page.getByRole('tab', { name: /^(Tier|会员等级)$/ }).click();
    await waitText(page.locator('[data-testid=member-tier-name]'), /(Silver|银卡)/, 'member tier');
    // 1000 - 328 points to the top tier.
    await waitText(page.locator('[data-testid=member-tier-progress]'), /672/, 'progress to gold');
  });

  // The history's reason is stored as a code and its values: a language switch says it again.
  await step('member-tier-reason-language', page, async () => {
    const reason = page.locator('[data-testid=tier-move-reason]').first();
    const said = {
      'zh-CN': /等级体系 v\d+ 发布后重新评定/,
      en: /Re-evaluated when ladder v\d+ was published/,
    };
    const switchTo = async (lang) => {
      await page.locator('.app-header [data-testid=language-switch]').click();
      await page.locator('.ant-select-item-option', { hasText: lang === 'en' ? 'English' : '简体中文' }).click();
      await page.waitForFunction((l) => document.documentElement.lang === l, lang);
    };
    const first = await page.evaluate(() => document.documentElement.lang);
    const other = first === 'en' ? 'zh-CN' : 'en';
    await waitText(reason, said[first], `the publish's reason in ${first}`);
    await switchTo(other);
    await waitText(reason, said[other], `the publish's reason in ${other}`);
    await switchTo(first);
    await waitText(reason, said[first], `the publish's reason in ${first} again`);
  });
}

/**
 * The tier's birthday coupon, in a business of its own: the tier form offers the business's
 * coupon templates by name; the one chosen for the silver tier is saved with the draft, is
 * shown again after a reload, and is in the draft the server keeps.
 */
export async function tierCouponSteps({ browser, step, base, watch }) {
  const s = await setUp(base);
  const template = await api(base, 'POST', '/coupon-templates', {
    token: s.owner,
    body: {
      name: '生日券',
      terms: { kind: 'amount_off', amount: 1000, valid_days: 7, stacking: 'exclusive', on_refund: 'restore' },
      claimable: false,
      points_price: 0,
    },
  });
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN', reducedMotion: 'reduce' });
  await ctx.addInitScript((token) => {
    localStorage.setItem('patron.token', token);
    localStorage.setItem('patron.lang', 'zh-CN');
  }, s.owner);
  const page = await ctx.newPage();
  page.setDefaultTimeout(15_000);
  watch(page, 'tier-coupon');
  const allow = [s.business, s.slug, '生日券', '店长'];

  await step('tiers-birthday-coupon', page, async () => {
    await page.goto(`${base}/tiers`);
    // The editor is filled in once the ladder has loaded (what is typed before would be reset).
    await page.locator('[data-testid=tiers-status]').waitFor();
    await page.locator('#ladder_tiers_0_name_zh').waitFor();
    for (let i = 0; ; i++) {
      await fillTier(page, 0, { zh: '普通', en: 'Basic' });
      await page.waitForTimeout(300);
      if ((await page.inputValue('#ladder_tiers_0_name_zh')) === '普通') break;
      if (i === 5) throw new Error('the first tier does not keep its name');
    }
    await page.click('[data-testid=tiers-add]');
    await fillTier(page, 1, { zh: '银卡', en: 'Silver', threshold: 100 });
    await page.locator('[data-testid=tier-birthday-coupon-1]').click();
    await page.locator('.ant-select-dropdown:visible .ant-select-item-option', { hasText: '生日券' }).click();
    await assertNoLeaks(page, { lang: 'zh-CN', where: 'tier form with a birthday coupon', allow });
    await page.click('[data-testid=tiers-save]');
    await page.getByText('草稿已保存').waitFor();
    await page.reload();
    await waitText(page.locator('[data-testid=tier-birthday-coupon-1]'), /生日券/, 'the birthday coupon after a reload');
    const shown = (await page.locator('[data-testid=tier-birthday-coupon-0]').textContent()) ?? '';
    if (/生日券/.test(shown)) throw new Error('the basic tier shows a birthday coupon it was not given');
    const overview = await api(base, 'GET', '/tiers', { token: s.owner });
    const silver = overview.draft?.ladder?.tiers?.[1];
    if (silver?.benefits?.birthday_coupon_template_id !== template.id) {
      throw new Error(`the draft's silver tier: ${JSON.stringify(silver?.benefits)}`);
    }
  });
  await ctx.close();
}
