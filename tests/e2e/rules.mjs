// End-to-end steps for the point rules pages, called by console.mjs with a page logged in as
// the business owner. A purchase rule is built from the template form (1 point per yuan and a
// first-purchase bonus), its generated Rhai is shown, a simulation runs on a typed-in first
// purchase, and the rule is published and seen as the version in force. Publishing a script
// generated unchanged from the form needs no plan feature (a hand-edited one needs
// rule_scripts), so this works on any plan. Works in either console language: it goes by
// element ids and test ids, not by text.

import { api } from './desk.mjs';
import { setUp } from './coupons.mjs';
import { assertNoLeaks } from './leaks.mjs';

/** Waits until `locator`'s text matches `re`. */
async function waitText(locator, re, what) {
  const until = Date.now() + 15_000;
  let last = '';
  while (Date.now() < until) {
    last = (await locator.textContent().catch(() => '')) ?? '';
    if (re.test(last)) return last;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${what}: expected ${re}, got ${JSON.stringify(last.slice(0, 300))}`);
}

export async function ruleSteps({ page, step, base }) {
  let version = '';
  await step('rules-overview', page, async () => {
    await page.goto(`${base}/rules`);
    await page.locator('[data-testid=rule-open-purchase]').waitFor();
    await page.locator('[data-testid=rule-open-check_in]').waitFor();
  });

  await step('rule-template-filled', page, async () => {
    await page.click('[data-testid=rule-open-purchase]');
    await page.waitForURL(`${base}/rules/purchase`);
    await page.fill('#rule-template_base_points', '1');
    await page.fill('#rule-template_base_per_amount', '1');
    await page.check('#rule-template_first_purchase_bonus_enabled');
    await page.fill('#rule-template_first_purchase_bonus_points', '200');
  });

  await step('rule-rhai-generated', page, async () => {
    await page.click('[data-testid=rule-generate]');
    // The rule in plain words; its script only under 高级.
    await waitText(page.locator('[data-testid=rule-editor-summary]'), SUMMARY, 'summary of the generated rule');
    if (await page.locator('[data-testid=rule-editor]').isVisible()) throw new Error('the script is shown before 高级 is opened');
    await page.click('[data-testid=rule-script-advanced] .ant-collapse-header');
    await page.locator('[data-testid=rule-editor]').waitFor();
    const editor = page.locator('[data-testid=rule-editor] .cm-content');
    // The generated script: the base rate and the first-purchase bonus.
    await waitText(editor, /member\.totals\.visits == 0/, 'generated script');
    await waitText(editor, /200/, 'bonus in the script');
    await page.locator('[data-testid=rule-from-template]').waitFor();
    // The server compiled it: no error underlined.
    await waitText(page.locator('[data-testid=rule-compile-status]'), /\S/, 'compile status');
    if ((await page.locator('.cm-lintRange-error').count()) > 0) throw new Error('the generated script shows a compile error');
  });

  await step('rule-simulated', page, async () => {
    // Only a typed-in first purchase of ¥128, so the totals do not depend on earlier steps.
    await page.fill('#rule-simulation_last', '0');
    await page.click('[data-testid=sim-add-event]');
    await page.fill('#rule-simulation_events_0_amount', '128');
    await page.fill('#rule-simulation_events_0_visits', '0');
    await page.click('[data-testid=sim-run]');
    await page.locator('[data-testid=sim-result]').waitFor();
    // 128 points for ¥128 and the 200-point welcome bonus; nothing in force yet.
    await waitText(page.locator('[data-testid=sim-draft-total]'), /328/, 'simulated draft total');
  });

  await step('rule-published', page, async () => {
    await page.click('[data-testid=rule-publish]');
    await page.getByRole('dialog').waitFor();
    await page.click('[data-testid=rule-publish-confirm]');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    if ((await page.locator('[data-testid=rule-publish-402]').count()) > 0) {
      throw new Error('publishing a template-made script asked for a plan feature');
    }
    // Version numbers count every trigger's versions, so other rules may have come first.
    const tag = await waitText(page.locator('[data-testid=rule-active-version]'), /v\d+\b/, 'version in force');
    version = tag.match(/v(\d+)\b/)[1];
    // The newest row of the versions table is the one just published.
    await page.locator('[data-testid=rule-versions] tr.ant-table-row').first().getByText(`v${version}`, { exact: true }).waitFor();
  });

  await step('rule-active-in-overview', page, async () => {
    await page.goto(`${base}/rules`);
    const active = page.locator('[data-testid=rule-active-purchase]');
    await waitText(active, new RegExp(`\\bv${version}\\b`), 'purchase rule in force on the overview');
    // What the rule in force does, in plain words.
    await waitText(page.locator('[data-testid=rule-summary-purchase]'), SUMMARY, 'summary on the overview');
  });
}

/** The purchase rule above in plain words, in either language. */
const SUMMARY = /(1 point per ¥1 spent; first purchase \+200|每消费 ¥1 得 1 积分；首单 \+200)/;

/**
 * A recipe from the gallery (周末双倍): the purchase rule's form opens filled in with the
 * promotion (the rule's base rate and bonus kept), is generated and published, and the
 * overview's summary names it. Weekends double the points of purchases from then on, so this
 * runs after the steps that count points.
 */
export async function recipeSteps({ page, step, base }) {
  await step('recipe-opens-filled-form', page, async () => {
    await page.goto(`${base}/rules`);
    await page.locator('[data-testid=rule-recipes]').waitFor();
    await page.click('[data-testid=recipe-weekend_double]');
    await page.waitForURL(`${base}/rules/purchase?recipe=weekend_double`);
    const name = await page.inputValue('#rule-template_promotions_0_name');
    if (!/^(Weekend double|周末双倍)$/.test(name)) throw new Error(`promotion name: ${JSON.stringify(name)}`);
    if ((await page.inputValue('#rule-template_first_purchase_bonus_points')) !== '200') {
      throw new Error('the recipe dropped what the rule had');
    }
  });

  await step('recipe-published', page, async () => {
    await page.click('[data-testid=rule-generate]');
    await waitText(page.locator('[data-testid=rule-editor-summary]'), /(Weekend double: weekends ×2|周末双倍：周末 ×2)/, 'recipe in the summary');
    await page.click('[data-testid=rule-publish]');
    await page.getByRole('dialog').waitFor();
    await page.click('[data-testid=rule-publish-confirm]');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await page.goto(`${base}/rules`);
    await waitText(
      page.locator('[data-testid=rule-summary-purchase]'),
      /(1 point per ¥1 spent; Weekend double: weekends ×2 .*; first purchase \+200|每消费 ¥1 得 1 积分；周末双倍：周末 ×2.*；首单 \+200)/,
      'summary with the recipe',
    );
  });
}

/**
 * The purchase rule's coupon action, in a business of its own: the rule form offers the
 * business's coupon templates by name; a rule of 1 point per yuan that also gives 感谢券 is
 * generated (its summary names the coupon) and published; a purchase recorded at the desk
 * then shows the coupon given (by its name and code), and the member's coupons list it.
 */
export async function ruleCouponSteps({ browser, step, base, watch }) {
  const s = await setUp(base);
  const memberId = s.member.member.id;
  await api(base, 'POST', '/coupon-templates', {
    token: s.owner,
    body: {
      name: '感谢券',
      terms: { kind: 'amount_off', amount: 300, valid_days: 30, stacking: 'exclusive', on_refund: 'restore' },
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
  watch(page, 'rule-coupon');
  const allow = [s.business, s.slug, '感谢券', '领券会员', '店长', '测试积分', 'Rhai'];

  await step('rule-coupon-action', page, async () => {
    await page.goto(`${base}/rules/purchase`);
    await page.fill('#rule-template_base_points', '1');
    await page.fill('#rule-template_base_per_amount', '1');
    await page.locator('[data-testid=rule-coupon]').click();
    await page.locator('.ant-select-dropdown:visible .ant-select-item-option', { hasText: '感谢券' }).click();
    await page.click('[data-testid=rule-generate]');
    await waitText(page.locator('[data-testid=rule-editor-summary]'), /赠券：感谢券/, 'the coupon in the rule\'s summary');
    await assertNoLeaks(page, { lang: 'zh-CN', where: 'purchase rule with a coupon', allow });
    await page.click('[data-testid=rule-publish]');
    await page.getByRole('dialog').waitFor();
    await page.click('[data-testid=rule-publish-confirm]');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await page.goto(`${base}/rules`);
    await waitText(page.locator('[data-testid=rule-summary-purchase]'), /赠券：感谢券/, 'the rule in force gives the coupon');
  });

  await step('rule-coupon-given', page, async () => {
    await page.goto(`${base}/desk`);
    await page.fill('input[data-testid=desk-box]', s.phone);
    await page.press('input[data-testid=desk-box]', 'Enter');
    await waitText(page.locator('[data-testid=summary-name]'), /领券会员/, 'the member at the desk');
    await page.click('[data-testid=action-purchase]');
    await page.fill('#desk-purchase_amount', '30');
    await page.click('[data-testid=purchase-submit]');
    const given = await waitText(page.locator('[data-testid=purchase-rule-coupons]'), /感谢券 \S+/, 'the coupon the rule gave, by name');
    const code = given.replace('感谢券', '').trim();
    await assertNoLeaks(page, { lang: 'zh-CN', where: 'desk purchase with a rule coupon', allow: [...allow, code] });
    await page.getByRole('dialog').getByRole('button', { name: '关闭' }).click();
    await page.goto(`${base}/members/${memberId}`);
    await page.getByRole('tab', { name: '优惠券' }).click();
    await waitText(page.locator('[data-testid=member-coupons] .ant-table-tbody'), new RegExp(`${code}.*感谢券.*可用`), 'the member\'s coupon from the rule');
  });
  await ctx.close();
}
