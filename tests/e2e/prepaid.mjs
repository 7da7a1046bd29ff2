// End-to-end steps for memberships, visit passes and stored value. A business of its own is
// set up through the API (Pro, a top-up bonus of ¥20 from ¥100, one member registered in the
// portal); then its owner, in the browser (zh-CN, 1366x768): creates a fee standard and a
// pass product; sells both to the member from the member page (the price and the last day
// shown before confirming); tops up ¥100 with the ¥20 bonus shown first; a purchase is paid
// from the balance through the API; uses two visits and reverses one with a reason; freezes
// the membership for 7 days; checks the charge records' totals. The
// member's portal then shows the membership's last day, the balance and the visits left.
// Every page visited is checked for words of the other language in zh-CN and en, and the
// pages are used again at 375px (no sideways scrolling, the modals fit).
//
// Called by console.mjs (`prepaidSteps`); runs on its own too:
//   E2E_BASE_URL=http://127.0.0.1:8080 node tests/e2e/prepaid.mjs
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { api } from './desk.mjs';
import { assertNoLeaks } from './leaks.mjs';

const PASSWORD = 'e2e-prepaid-password-1';
const PLAN = '年卡会员';
const PRODUCT = '理发十次卡';

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

async function noHorizontalOverflow(page) {
  const { scroll, width } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    width: window.innerWidth,
  }));
  if (scroll > width) throw new Error(`horizontal overflow: scrollWidth ${scroll} > ${width}`);
}

/** The open modal lies within the viewport. */
async function modalFits(page) {
  const box = await page.locator('.ant-modal-content').last().boundingBox();
  const width = page.viewportSize()?.width ?? 0;
  if (!box || box.x < 0 || box.x + box.width > width + 0.5) {
    throw new Error(`the modal does not fit ${width}px: ${JSON.stringify(box)}`);
  }
}

/** The local day of `now` in `zone`, plus `days`, as YYYY-MM-DD. */
function localDay(zone, { days = 0, years = 0 } = {}) {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
  const d = new Date(`${today}T00:00:00Z`);
  if (years) {
    const day = d.getUTCDate();
    d.setUTCDate(1);
    d.setUTCFullYear(d.getUTCFullYear() + years);
    const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
    d.setUTCDate(Math.min(day, last));
  }
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** Types into the antd InputNumber marked `testId` (the mark sits on the input or around it). */
async function fillNumber(page, testId, value) {
  await page.locator(`input[data-testid=${testId}], [data-testid=${testId}] input`).first().fill(value);
}

/** Picks `label` in the antd Select whose trigger is `testId`. */
async function choose(page, testId, label) {
  await page.locator(`[data-testid=${testId}]`).click();
  await page.locator('.ant-select-dropdown:visible .ant-select-item-option', { hasText: label }).first().click();
}

async function setUp(base) {
  const stamp = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
  const slug = `prepaid-${stamp}`;
  const business = `储值测试 ${stamp}`;
  const signed = await api(base, 'POST', '/signup', {
    body: {
      business_name: business,
      slug,
      owner_name: '店长',
      email: `owner-${stamp}@prepaid.example.com`,
      password: PASSWORD,
      plan: 'pro',
    },
  });
  const owner = signed.session.token;
  const me = await api(base, 'GET', '/me', { token: owner });
  await api(base, 'PUT', '/prepaid/settings', {
    token: owner,
    body: {
      spend_order: 'pro_rata',
      bonus_rule: { kind: 'tiers', tiers: [{ min: 10_000, bonus: 2_000 }] },
      freeze_days_per_year: 30,
    },
  });
  const phone = `138${String(Date.now()).slice(-4)}5678`;
  await api(base, 'POST', `/portal/${slug}/codes`, { body: { phone, purpose: 'register' } });
  const texts = await api(base, 'GET', `/sms-outbox?phone=${encodeURIComponent(phone)}`, { token: owner });
  const code = /(\d{6})/.exec(texts[0].body.replace(/^(【[^】]*】|\[[^\]]*\])/, ''))[1];
  const member = await api(base, 'POST', `/portal/${slug}/register`, {
    body: { profile: { name: '储值会员', phone }, code, password: PASSWORD },
  });
  return { slug, business, owner, zone: me.tenant.time_zone, member, stamp };
}

/**
 * The prepaid steps. `step(name, page, fn)` and `watch(page, label)` are the caller's.
 */
export async function prepaidSteps({ browser, step, base, watch }) {
  const s = await setUp(base);
  const memberId = s.member.member.id;
  const allow = [s.business, s.slug, '储值会员', PLAN, PRODUCT, '店长', '重复核销'];
  const context = async (viewport, lang, label) => {
    const ctx = await browser.newContext({
      viewport,
      ...(viewport.width < 500 ? { deviceScaleFactor: 2, isMobile: true, hasTouch: true } : {}),
      locale: lang,
      reducedMotion: 'reduce',
    });
    await ctx.addInitScript(
      ({ token, lang, slug, member }) => {
        localStorage.setItem('patron.token', token);
        localStorage.setItem('patron.lang', lang);
        localStorage.setItem(`patron.portal.${slug}`, member);
      },
      { token: s.owner, lang, slug: s.slug, member: s.member.token },
    );
    const page = await ctx.newPage();
    page.setDefaultTimeout(15_000);
    watch(page, label);
    return { ctx, page };
  };

  const { ctx, page } = await context({ width: 1366, height: 768 }, 'zh-CN', 'prepaid');

  await step('prepaid-fee-standard', page, async () => {
    await page.goto(`${base}/prepaid`);
    await page.locator('[data-testid=prepaid-plans]').waitFor();
    await page.click('[data-testid=prepaid-plan-new]');
    await page.fill('[data-testid=prepaid-plan-name]', PLAN);
    await fillNumber(page, 'prepaid-plan-price', '1200');
    await choose(page, 'prepaid-plan-period', '年');
    await page.click('[data-testid=prepaid-plan-submit]');
    await waitText(page.locator('[data-testid=prepaid-plans] .ant-table-tbody'), new RegExp(`${PLAN}.*¥1,200\\.00.*1 年`), 'the fee standard listed');
    await assertNoLeaks(page, { lang: 'zh-CN', where: 'fee standards', allow });
  });

  await step('prepaid-pass-product', page, async () => {
    await page.click('[data-testid=prepaid-tab-products]');
    await page.click('[data-testid=prepaid-product-new]');
    await page.fill('[data-testid=prepaid-product-name]', PRODUCT);
    await fillNumber(page, 'prepaid-product-visits', '10');
    await fillNumber(page, 'prepaid-product-validity', '90');
    await fillNumber(page, 'prepaid-product-price', '300');
    await page.click('[data-testid=prepaid-product-submit]');
    await waitText(page.locator('[data-testid=prepaid-products] .ant-table-tbody'), new RegExp(`${PRODUCT}.*10.*90 天.*¥300\\.00`), 'the pass product listed');
    await assertNoLeaks(page, { lang: 'zh-CN', where: 'pass products', allow });
    for (const tab of ['ending', 'settings']) {
      await page.click(`[data-testid=prepaid-tab-${tab}]`);
      await page.locator(`[data-testid=prepaid-${tab}]`).waitFor();
      await page.locator('.ant-spin-spinning').waitFor({ state: 'detached' });
      await assertNoLeaks(page, { lang: 'zh-CN', where: `prepaid ${tab}`, allow });
    }
  });

  const tab = page.locator('[data-testid=member-prepaid]');
  await step('prepaid-sell-membership', page, async () => {
    await page.goto(`${base}/members/${memberId}`);
    await page.getByRole('tab', { name: '储值与会员' }).click();
    await tab.waitFor();
    await page.click('[data-testid=prepaid-sell-membership]');
    await choose(page, 'prepaid-sell-membership-plan', PLAN);
    await page.fill('[data-testid=prepaid-sell-membership-receipt]', 'R-100');
    const last = localDay(s.zone, { years: 1, days: -1 });
    await waitText(page.locator('[data-testid=prepaid-sell-membership-price]'), /^¥1,200\.00$/, 'the price before confirming');
    await waitText(page.locator('[data-testid=prepaid-sell-membership-last]'), new RegExp(`^${last}$`), 'the last day before confirming');
    await assertNoLeaks(page, { lang: 'zh-CN', where: 'sell a membership', allow });
    await page.click('[data-testid=prepaid-sell-membership-submit]');
    await waitText(page.locator('[data-testid=prepaid-memberships]'), new RegExp(`${PLAN}.*${last}.*有效.*¥1,200\\.00`), 'the membership sold');
  });

  await step('prepaid-sell-pass', page, async () => {
    await page.click('[data-testid=prepaid-sell-pass]');
    await choose(page, 'prepaid-sell-pass-product', PRODUCT);
    await waitText(page.locator('[data-testid=prepaid-sell-pass-price]'), /^¥300\.00$/, 'the price before confirming');
    await waitText(page.locator('[data-testid=prepaid-sell-pass-last]'), new RegExp(`^${localDay(s.zone, { days: 89 })}$`), 'the last day before confirming');
    await page.click('[data-testid=prepaid-sell-pass-submit]');
    await waitText(page.locator('[data-testid=prepaid-pass-visits]').first(), /^10 \/ 10$/, 'the pass sold');
  });

  await step('prepaid-top-up', page, async () => {
    await page.click('[data-testid=prepaid-top-up]');
    await fillNumber(page, 'prepaid-top-up-amount', '100');
    await waitText(page.locator('[data-testid=prepaid-top-up-bonus]'), /^¥20\.00$/, 'the bonus before confirming');
    await assertNoLeaks(page, { lang: 'zh-CN', where: 'top-up', allow });
    await page.click('[data-testid=prepaid-top-up-submit]');
    await waitText(page.locator('[data-testid=prepaid-total]'), /¥120\.00/, 'the balance after the top-up');
  });

  await step('prepaid-pay-and-visit', page, async () => {
    // A till pays ¥30 of a purchase from the balance: 25 principal + 5 bonus (pro rata).
    await api(base, 'POST', '/purchases', {
      token: s.owner,
      body: {
        external_id: `sv-${s.stamp}`,
        member_id: memberId,
        amount: 3000,
        payments: [{ method: 'stored_value', amount: 3000 }],
      },
    });
    await page.reload();
    await page.getByRole('tab', { name: '储值与会员' }).click();
    await waitText(page.locator('[data-testid=prepaid-total]'), /¥90\.00/, 'the balance after the payment');
    await waitText(page.locator('[data-testid=prepaid-principal]'), /¥75\.00/, 'principal after the payment');
    await waitText(page.locator('[data-testid=prepaid-bonus]'), /¥15\.00/, 'bonus after the payment');
    // Refunding the top-up would give back the ¥75 of principal not spent and forfeit the
    // ¥15 of bonus left: shown before confirming (not confirmed here).
    await page.click('[data-testid=prepaid-refund-top-up]');
    await waitText(page.locator('[data-testid=prepaid-refund-top-up-amount]'), /^¥75\.00$/, 'the top-up refund shown first');
    await waitText(page.locator('[data-testid=prepaid-refund-top-up-preview]'), /作废赠送金¥15\.00/, 'the bonus forfeited');
    await assertNoLeaks(page, { lang: 'zh-CN', where: 'top-up refund', allow });
    await page.getByRole('dialog').getByRole('button', { name: /取\s*消/ }).click();
    // Two visits used, one reversed with a reason: 9 left.
    for (const left of ['9', '8']) {
      await page.click('[data-testid=prepaid-consume]');
      await page.click('[data-testid=prepaid-consume-submit]');
      await waitText(page.locator('[data-testid=prepaid-pass-visits]').first(), new RegExp(`^${left} / 10$`), 'a visit used');
    }
    await page.locator('[data-testid=prepaid-passes] .ant-table-row-expand-icon').first().click();
    await page.locator('[data-testid=prepaid-reverse]').first().click();
    await page.fill('[data-testid=prepaid-reverse-reason]', '重复核销');
    await page.click('[data-testid=prepaid-reverse-submit]');
    await waitText(page.locator('[data-testid=prepaid-pass-visits]').first(), /^9 \/ 10$/, 'the visit given back');
    await waitText(page.locator('[data-testid=prepaid-passes]'), /已撤销：重复核销/, 'the reversal and its reason');
    // A 7-day freeze moves the last day by 7, shown before confirming.
    await page.click('[data-testid=prepaid-freeze]');
    await fillNumber(page, 'prepaid-freeze-days', '7');
    await page.click('[data-testid=prepaid-freeze-submit]');
    await waitText(page.locator('[data-testid=prepaid-membership-last]'), new RegExp(`^${localDay(s.zone, { years: 1, days: 6 })}$`), 'the last day after the freeze');
    await assertNoLeaks(page, { lang: 'zh-CN', where: 'member prepaid tab', allow });
  });

  await step('prepaid-charges', page, async () => {
    await page.goto(`${base}/charges`);
    // Membership ¥1,200 + pass ¥300 + top-up ¥100, all by WeChat Pay; the ¥30 paid from the
    // balance is not money taken.
    await waitText(page.locator('[data-testid=charges-total]'), /¥1,600\.00/, 'the total taken');
    await waitText(page.locator('[data-testid=charges-count]'), /3/, 'the number of records');
    await waitText(page.locator('[data-testid=charges-by-method] .ant-table-tbody'), /微信支付.*3.*¥1,600\.00/, 'totals by method');
    await waitText(page.locator('[data-testid=charges-by-day] .ant-table-tbody'), new RegExp(`${localDay(s.zone)}.*3.*¥1,600\\.00`), 'totals by day');
    await waitText(page.locator('[data-testid=charges-table]'), /储值会员.*会员办理.*年卡会员.*微信支付.*¥1,200\.00.*R-100.*店长/, 'the records with names');
    await assertNoLeaks(page, { lang: 'zh-CN', where: 'charge records', allow });
    const download = page.waitForEvent('download');
    await page.click('[data-testid=charges-export]');
    const file = await download;
    if (!/\.csv$/.test(file.suggestedFilename())) throw new Error(`export named ${file.suggestedFilename()}`);
  });

  await step('prepaid-portal', page, async () => {
    await page.goto(`${base}/m/${s.slug}/prepaid`);
    await waitText(page.locator('[data-testid=portal-memberships]'), new RegExp(`${PLAN}.*有效期至 ${localDay(s.zone, { years: 1, days: 6 })}`), 'the membership end date');
    await waitText(page.locator('[data-testid=portal-sv-total]'), /¥90\.00/, 'the balance');
    await waitText(page.locator('[data-testid=portal-sv-principal]'), /¥75\.00/, 'the principal');
    await waitText(page.locator('[data-testid=portal-sv-bonus]'), /¥15\.00/, 'the bonus');
    await waitText(page.locator('[data-testid=portal-pass-left]'), /剩余 9 \/ 10 次/, 'the visits left');
    await page.locator('[data-testid=portal-tab-prepaid]').waitFor();
    await assertNoLeaks(page, { lang: 'zh-CN', where: 'portal prepaid', allow });
  });
  await ctx.close();

  // The same pages in English.
  const en = await context({ width: 1366, height: 768 }, 'en', 'prepaid-en');
  await step('prepaid-english', en.page, async () => {
    const p = en.page;
    await p.goto(`${base}/prepaid`);
    await waitText(p.locator('[data-testid=prepaid-plans] .ant-table-tbody'), /¥1,200\.00.*1 year/, 'fee standards in English');
    await assertNoLeaks(p, { lang: 'en', where: 'fee standards', allow });
    for (const t of ['products', 'ending', 'settings']) {
      await p.click(`[data-testid=prepaid-tab-${t}]`);
      await p.locator(`[data-testid=prepaid-${t}]`).waitFor();
      await p.locator('.ant-spin-spinning').waitFor({ state: 'detached' });
      await assertNoLeaks(p, { lang: 'en', where: `prepaid ${t}`, allow });
    }
    await p.goto(`${base}/members/${memberId}`);
    await p.getByRole('tab', { name: 'Stored value & membership' }).click();
    await waitText(p.locator('[data-testid=prepaid-total]'), /¥90\.00/, 'the balance in English');
    await assertNoLeaks(p, { lang: 'en', where: 'member prepaid tab', allow });
    await p.click('[data-testid=prepaid-cancel]');
    await waitText(p.locator('[data-testid=prepaid-cancel-refund]'), /^¥1,200\.00$/, 'the refund shown before cancelling');
    await assertNoLeaks(p, { lang: 'en', where: 'cancel a membership', allow });
    await p.getByRole('dialog').getByRole('button', { name: 'Keep it' }).click();
    await p.goto(`${base}/charges`);
    await waitText(p.locator('[data-testid=charges-by-method] .ant-table-tbody'), /WeChat Pay.*¥1,600\.00/, 'totals in English');
    await assertNoLeaks(p, { lang: 'en', where: 'charge records', allow });
    await p.goto(`${base}/m/${s.slug}/prepaid`);
    await waitText(p.locator('[data-testid=portal-pass-left]'), /9 of 10 visits left/, 'the portal in English');
    await assertNoLeaks(p, { lang: 'en', where: 'portal prepaid', allow });
  });
  await en.ctx.close();

  // A phone: the pages scroll their tables, never the page; the modals fit.
  const phone = await context({ width: 375, height: 740 }, 'zh-CN', 'prepaid-375');
  await step('prepaid-phone', phone.page, async () => {
    const p = phone.page;
    await p.goto(`${base}/prepaid`);
    await waitText(p.locator('[data-testid=prepaid-plans] .ant-table-tbody'), /¥1,200\.00/, 'fee standards on a phone');
    await noHorizontalOverflow(p);
    await p.click('[data-testid=prepaid-plan-new]');
    await modalFits(p);
    await p.keyboard.press('Escape');
    await p.goto(`${base}/charges`);
    await waitText(p.locator('[data-testid=charges-total]'), /¥1,600\.00/, 'charges on a phone');
    await noHorizontalOverflow(p);
    await p.goto(`${base}/members/${memberId}`);
    await p.getByRole('tab', { name: '储值与会员' }).click();
    await waitText(p.locator('[data-testid=prepaid-total]'), /¥90\.00/, 'the balance on a phone');
    await noHorizontalOverflow(p);
    await p.click('[data-testid=prepaid-sell-membership]');
    await choose(p, 'prepaid-sell-membership-plan', PLAN);
    await p.locator('[data-testid=prepaid-sell-membership-preview]').waitFor();
    await modalFits(p);
    await p.keyboard.press('Escape');
    await p.goto(`${base}/m/${s.slug}/prepaid`);
    await waitText(p.locator('[data-testid=portal-sv-total]'), /¥90\.00/, 'the portal on a phone');
    await noHorizontalOverflow(p);
  });
  await phone.ctx.close();
}

// Run on its own: a browser, the steps, screenshots in tests/e2e/artifacts/prepaid-*.png.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const here = dirname(fileURLToPath(import.meta.url));
  const require = createRequire(resolve(here, '../../tenant-admin/package.json'));
  const { chromium } = require('playwright-core');
  const base = process.env.E2E_BASE_URL ?? 'http://127.0.0.1:8080';
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const errors = [];
  let failed = false;
  const watch = (page, label) => {
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(`[${label}] ${msg.text()}`);
    });
    page.on('pageerror', (err) => errors.push(`[${label}] page error: ${err.message}`));
  };
  const step = async (name, page, fn) => {
    try {
      await fn();
      await page.screenshot({ path: resolve(here, 'artifacts', `${name}.png`), fullPage: true });
      if (errors.length) throw new Error(`browser console errors:\n  ${errors.join('\n  ')}`);
      console.log(`ok   ${name}`);
    } catch (err) {
      failed = true;
      await page.screenshot({ path: resolve(here, 'artifacts', `${name}-FAILED.png`), fullPage: true }).catch(() => {});
      console.error(`FAIL ${name}: ${err instanceof Error ? err.stack : err}`);
      throw err;
    }
  };
  try {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(resolve(here, 'artifacts'), { recursive: true });
    await prepaidSteps({ browser, step, base, watch });
  } catch {
    failed = true;
  } finally {
    await browser.close();
  }
  process.exit(failed ? 1 : 0);
}
