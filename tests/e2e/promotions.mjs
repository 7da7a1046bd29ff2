// End-to-end steps for promotions. A business of its own is set up through the API (pro
// plan, one member registered in the portal, a coupon template); then its owner, in the
// browser (zh-CN, 1366x768): creates a promotion for today and the next six days (the
// business's days) giving 50 bonus points a purchase and the coupon, with the form; publishes
// it and sees it running; a purchase through the API earns the bonus, and the promotion's
// page shows its results (one member reached, 50 points, one coupon issued); the member's
// portal lists it under 进行中. Every page visited is checked for words of the other language
// in zh-CN and en, and the pages are used again at 375px (no sideways scrolling, the form
// fits).
//
// Called by console.mjs (`promotionSteps`); runs on its own too:
//   E2E_BASE_URL=http://127.0.0.1:8080 node tests/e2e/promotions.mjs
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { api } from './desk.mjs';
import { assertNoLeaks } from './leaks.mjs';

const PASSWORD = 'e2e-promotions-password-1';
const PROMOTION = '开业周';
const TEMPLATE = '开业礼券';

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

async function modalFits(page) {
  const box = await page.locator('.ant-modal-content').last().boundingBox();
  const width = page.viewportSize()?.width ?? 0;
  if (!box || box.x < 0 || box.x + box.width > width + 0.5) {
    throw new Error(`the modal does not fit ${width}px: ${JSON.stringify(box)}`);
  }
}

async function choose(page, testId, label) {
  await page.locator(`[data-testid=${testId}]`).click();
  await page.locator('.ant-select-dropdown:visible .ant-select-item-option', { hasText: label }).first().click();
}

/** A local day in the business's zone (Asia/Shanghai), `days` from today. */
function day(days) {
  const d = new Date(Date.now() + days * 86_400_000);
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
}

async function setUp(base) {
  const stamp = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
  const slug = `promo-${stamp}`;
  const business = `活动测试 ${stamp}`;
  const signed = await api(base, 'POST', '/signup', {
    body: {
      business_name: business,
      slug,
      owner_name: '店长',
      email: `owner-${stamp}@promotions.example.com`,
      password: PASSWORD,
      plan: 'pro',
    },
  });
  const owner = signed.session.token;
  await api(base, 'PATCH', '/settings', { token: owner, body: { time_zone: 'Asia/Shanghai' } });
  const phone = `136${String(Date.now()).slice(-4)}4321`;
  await api(base, 'POST', `/portal/${slug}/codes`, { body: { phone, purpose: 'register' } });
  const texts = await api(base, 'GET', `/sms-outbox?phone=${encodeURIComponent(phone)}`, { token: owner });
  const code = /(\d{6})/.exec(texts[0].body.replace(/^(【[^】]*】|\[[^\]]*\])/, ''))[1];
  const member = await api(base, 'POST', `/portal/${slug}/register`, {
    body: { profile: { name: '活动会员', phone }, code, password: PASSWORD },
  });
  await api(base, 'POST', '/coupon-templates', {
    token: owner,
    body: { name: TEMPLATE, terms: { kind: 'amount_off', amount: 500, valid_days: 30 } },
  });
  return { slug, business, owner, member, stamp };
}

/**
 * The promotion steps. `step(name, page, fn)` and `watch(page, label)` are the caller's.
 */
export async function promotionSteps({ browser, step, base, watch }) {
  const s = await setUp(base);
  const memberId = s.member.member.id;
  const allow = [s.business, s.slug, '活动会员', PROMOTION, TEMPLATE, '店长', 'Asia/Shanghai'];
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

  const { ctx, page } = await context({ width: 1366, height: 768 }, 'zh-CN', 'promotions');
  const table = page.locator('[data-testid=promotions-page] .ant-table-tbody');

  await step('promotions-form', page, async () => {
    await page.goto(`${base}/promotions`);
    await page.locator('[data-testid=promotions-page]').waitFor();
    await page.click('[data-testid=promotion-new]');
    await page.fill('[data-testid=promotion-name]', PROMOTION);
    const range = page.locator('.ant-modal .ant-picker-range input');
    await range.nth(0).click();
    await range.nth(0).fill(day(0));
    await range.nth(0).press('Enter');
    await range.nth(1).fill(day(6));
    await range.nth(1).press('Enter');
    await page.locator('input[data-testid=promotion-bonus], [data-testid=promotion-bonus] input').first().fill('50');
    await choose(page, 'promotion-coupon', TEMPLATE);
    await assertNoLeaks(page, { lang: 'zh-CN', where: 'promotion form', allow });
    await page.click('[data-testid=promotion-submit]');
    await waitText(table, new RegExp(`${PROMOTION}.*每笔消费额外 50 积分.*赠送优惠券：${TEMPLATE}.*草稿`), 'the draft listed');
    await page.click(`[data-testid="promotion-publish-${PROMOTION}"]`);
    await page.locator('.ant-popconfirm:visible .ant-btn-primary').click();
    await waitText(table, new RegExp(`${PROMOTION}.*进行中`), 'the promotion running');
    await assertNoLeaks(page, { lang: 'zh-CN', where: 'promotions', allow });
  });

  await step('promotions-results', page, async () => {
    const bought = await api(base, 'POST', '/purchases', {
      token: s.owner,
      body: { external_id: `e2e-${s.stamp}`, member_id: memberId, amount: 8800 },
    });
    if (bought.points !== 50) throw new Error(`the purchase earned ${bought.points} points, not the bonus of 50`);
    await page.click(`[data-testid="promotion-${PROMOTION}"]`);
    await page.locator('[data-testid=promotion-page]').waitFor();
    await waitText(page.locator('[data-testid=promotion-result-members]'), /^1$/, 'members reached');
    await waitText(page.locator('[data-testid=promotion-result-points]'), /^50$/, 'points given');
    await waitText(page.locator('[data-testid=promotion-result-coupons-issued]'), /^1$/, 'coupons issued');
    await waitText(page.locator('[data-testid=promotion-result-sales]'), /88\.00/, 'sales');
    await assertNoLeaks(page, { lang: 'zh-CN', where: 'promotion results', allow });
  });

  await step('promotions-portal', page, async () => {
    await page.goto(`${base}/m/${s.slug}/promotions`);
    await waitText(page.locator('[data-testid=portal-promotion-running]'), new RegExp(`${PROMOTION}.*进行中.*每笔消费额外 50 积分`), 'the portal lists it');
    await page.locator('[data-testid=portal-tab-promotions]').waitFor();
    await assertNoLeaks(page, { lang: 'zh-CN', where: 'portal promotions', allow });
  });
  await ctx.close();

  const en = await context({ width: 1366, height: 768 }, 'en', 'promotions-en');
  await step('promotions-english', en.page, async () => {
    const p = en.page;
    await p.goto(`${base}/promotions`);
    await waitText(p.locator('[data-testid=promotions-page] .ant-table-tbody'), /50 bonus points a purchase.*Running/, 'promotions in English');
    await assertNoLeaks(p, { lang: 'en', where: 'promotions', allow });
    await p.click('[data-testid=promotion-new]');
    await assertNoLeaks(p, { lang: 'en', where: 'promotion form', allow });
    await p.keyboard.press('Escape');
    await p.click(`[data-testid="promotion-${PROMOTION}"]`);
    await waitText(p.locator('[data-testid=promotion-page]'), /Members reached/, 'results in English');
    await assertNoLeaks(p, { lang: 'en', where: 'promotion results', allow });
    await p.goto(`${base}/m/${s.slug}/promotions`);
    await waitText(p.locator('[data-testid=portal-promotions]'), /On now/, 'the portal in English');
    await assertNoLeaks(p, { lang: 'en', where: 'portal promotions', allow });
  });
  await en.ctx.close();

  const phone = await context({ width: 375, height: 740 }, 'zh-CN', 'promotions-375');
  await step('promotions-phone', phone.page, async () => {
    const p = phone.page;
    await p.goto(`${base}/promotions`);
    await waitText(p.locator('[data-testid=promotions-page] .ant-table-tbody'), new RegExp(PROMOTION), 'promotions on a phone');
    await noHorizontalOverflow(p);
    await p.click('[data-testid=promotion-new]');
    await modalFits(p);
    await p.keyboard.press('Escape');
    await p.goto(`${base}/m/${s.slug}/promotions`);
    await p.locator('[data-testid=portal-promotion-running]').first().waitFor();
    await noHorizontalOverflow(p);
  });
  await phone.ctx.close();
}

// Run on its own: a browser, the steps, screenshots in tests/e2e/artifacts/promotions-*.png.
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
    await promotionSteps({ browser, step, base, watch });
  } catch {
    failed = true;
  } finally {
    await browser.close();
  }
  process.exit(failed ? 1 : 0);
}
