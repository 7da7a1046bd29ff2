// End-to-end steps for the points mall. A business of its own is set up through the API
// (Pro, one member registered in the portal with 1,000 points); then its owner, in the
// browser (zh-CN, 1366x768), adds an item to the catalogue with the item form; the member,
// in the portal, orders it, sees the pickup code large, cancels the order while pending
// (the points come back) and orders again; the owner approves the order in the queue and
// completes it by typing the member's pickup code; the order's history names every step.
// Every page visited is checked for words of the other language in zh-CN and en, and the
// pages are used again at 375px (no sideways scrolling, the order form fits).
//
// Called by console.mjs (`mallSteps`); runs on its own too:
//   E2E_BASE_URL=http://127.0.0.1:8080 node tests/e2e/mall.mjs
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { api } from './desk.mjs';
import { assertNoLeaks } from './leaks.mjs';

const PASSWORD = 'e2e-mall-password-1';
const ITEM = '陶瓷马克杯';
const MEMBER = '商城会员';
const VIRTUAL = '五元代金券';
const VOUCHER = '五元券';

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

async function fillNumber(page, testId, value) {
  await page.locator(`input[data-testid=${testId}], [data-testid=${testId}] input`).first().fill(value);
}

async function setUp(base) {
  const stamp = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
  const slug = `mall-${stamp}`;
  const business = `商城测试 ${stamp}`;
  const signed = await api(base, 'POST', '/signup', {
    body: {
      business_name: business,
      slug,
      owner_name: '店长',
      email: `owner-${stamp}@mall.example.com`,
      password: PASSWORD,
      plan: 'pro',
    },
  });
  const owner = signed.session.token;
  const phone = `137${String(Date.now()).slice(-4)}5678`;
  await api(base, 'POST', `/portal/${slug}/codes`, { body: { phone, purpose: 'register' } });
  const texts = await api(base, 'GET', `/sms-outbox?phone=${encodeURIComponent(phone)}`, { token: owner });
  const code = /(\d{6})/.exec(texts[0].body.replace(/^(【[^】]*】|\[[^\]]*\])/, ''))[1];
  const member = await api(base, 'POST', `/portal/${slug}/register`, {
    body: { profile: { name: MEMBER, phone }, code, password: PASSWORD },
  });
  await api(base, 'POST', `/members/${member.member.id}/points/adjustments`, {
    token: owner,
    body: { idempotency_key: `e2e-${stamp}`, points: 1000, reason: '开业赠送' },
  });
  return { slug, business, owner, member, stamp };
}

/** The mall steps. `step(name, page, fn)` and `watch(page, label)` are the caller's. */
export async function mallSteps({ browser, step, base, watch }) {
  const s = await setUp(base);
  const allow = [s.business, s.slug, MEMBER, ITEM, '店长', VIRTUAL, VOUCHER];
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

  const { ctx, page } = await context({ width: 1366, height: 768 }, 'zh-CN', 'mall');

  await step('mall-item-form', page, async () => {
    await page.goto(`${base}/mall?tab=items`);
    await page.locator('[data-testid=mall-items]').waitFor();
    await page.click('[data-testid=mall-item-new]');
    await page.fill('[data-testid=mall-item-name]', ITEM);
    await fillNumber(page, 'mall-item-points', '300');
    await fillNumber(page, 'mall-item-stock', '3');
    await fillNumber(page, 'mall-item-per-member', '2');
    await assertNoLeaks(page, { lang: 'zh-CN', where: 'mall item form', allow });
    await page.click('[data-testid=mall-item-submit]');
    await waitText(page.locator('[data-testid=mall-items] .ant-table-tbody'), new RegExp(`${ITEM}.*300 积分.*3.*每人 2 件.*所有会员.*一直.*到店自提`), 'the item listed');
    await assertNoLeaks(page, { lang: 'zh-CN', where: 'mall items', allow });
  });

  // A virtual item delivers a coupon: the form offers the business's coupon templates by name.
  await step('mall-virtual-item', page, async () => {
    await api(base, 'POST', '/coupon-templates', {
      token: s.owner,
      body: {
        name: VOUCHER,
        terms: { kind: 'amount_off', amount: 500, valid_days: 30, stacking: 'exclusive', on_refund: 'restore' },
        claimable: false,
        points_price: 0,
      },
    });
    await page.click('[data-testid=mall-item-new]');
    await page.fill('[data-testid=mall-item-name]', VIRTUAL);
    await fillNumber(page, 'mall-item-points', '50');
    await fillNumber(page, 'mall-item-stock', '20');
    await page.locator('[data-testid=mall-item-delivery]').click();
    await page.locator('.ant-select-dropdown:visible .ant-select-item-option', { hasText: '虚拟（优惠券）' }).click();
    await page.locator('[data-testid=mall-item-coupon-template]').click();
    await page.locator('.ant-select-dropdown:visible .ant-select-item-option', { hasText: VOUCHER }).click();
    await assertNoLeaks(page, { lang: 'zh-CN', where: 'mall virtual item form', allow });
    await page.click('[data-testid=mall-item-submit]');
    await waitText(page.locator('[data-testid=mall-items] .ant-table-tbody'), new RegExp(`${VIRTUAL}.*50 积分.*20.*虚拟（优惠券）`), 'the virtual item listed with its kind');
    const items = await api(base, 'GET', '/mall/items', { token: s.owner });
    const list = Array.isArray(items) ? items : (items.items ?? []);
    const item = list.find((i) => i.name === VIRTUAL);
    if (item?.delivery !== 'virtual' || !item.coupon_template_id) throw new Error(`saved as ${JSON.stringify(item)}`);
    // Opened again, the form shows the template by its name.
    await page.click(`[data-testid="mall-item-edit-${VIRTUAL}"]`);
    await waitText(page.locator('[data-testid=mall-item-coupon-template]'), new RegExp(VOUCHER), 'the template in the form');
    await page.keyboard.press('Escape');
  });

  let code = '';
  // Opens the item's order dialog and confirms it once the dialog shows the total (a click on
  // the button while the dialog was still opening could go nowhere).
  const orderItem = async (what) => {
    await page.click(`[data-testid="portal-mall-order-${ITEM}"]`);
    await waitText(page.locator('.ant-modal-content').filter({ hasText: '合计' }), /合计：300 积分/, what);
    await page.click('[data-testid=portal-mall-confirm]');
  };
  await step('mall-portal-order-and-cancel', page, async () => {
    await page.goto(`${base}/m/${s.slug}/mall`);
    await waitText(page.locator('[data-testid=portal-mall-balance]'), /1,?000/, 'my points');
    await page.locator('[data-testid=portal-tab-mall]').waitFor();
    await waitText(page.locator(`[data-testid="portal-mall-item-${ITEM}"]`), /300 积分.*剩余 3 件.*还可兑换 2 件/, 'the item in the portal');
    await assertNoLeaks(page, { lang: 'zh-CN', where: 'portal mall', allow });
    await orderItem('the total before confirming');
    await waitText(page.locator('[data-testid=portal-mall-balance]'), /700/, 'the points taken');
    await waitText(page.locator('[data-testid=portal-mall-orders]'), /待审核/, 'the order pending');
    await page.click('[data-testid=portal-mall-cancel]');
    await page.click('[data-testid=portal-mall-cancel-ok]');
    await waitText(page.locator('[data-testid=portal-mall-balance]'), /1,?000/, 'the points back');
    await waitText(page.locator('[data-testid=portal-mall-orders]'), /已取消/, 'the order cancelled');
    // The second order as the first.
    await orderItem('the total before confirming again');
    code = (await waitText(page.locator('[data-testid=portal-mall-pickup-code]').first(), /^\d{4} \d{4}$/, 'the pickup code shown')).replace(' ', '');
    const size = await page.locator('[data-testid=portal-mall-pickup-code]').first().evaluate((e) => parseFloat(getComputedStyle(e).fontSize));
    if (size < 28) throw new Error(`the pickup code is ${size}px, too small to read across a counter`);
    await assertNoLeaks(page, { lang: 'zh-CN', where: 'portal mall orders', allow });
  });

  await step('mall-queue-approve-and-pickup', page, async () => {
    await page.goto(`${base}/mall`);
    const table = page.locator('[data-testid=mall-orders] .ant-table-tbody');
    await waitText(table, new RegExp(`${MEMBER}.*${ITEM} × 1.*300 积分.*核销码 ${code}.*待审核`), 'the pending order in the queue');
    await assertNoLeaks(page, { lang: 'zh-CN', where: 'mall orders', allow });
    await page.locator('[data-testid^=mall-move-approve-]').first().click();
    await page.click('[data-testid=mall-filter-approved]');
    await waitText(table, /已审核/, 'the order approved');
    // The member's code, typed as the portal shows it, completes the order (a wrong code is
    // refused in tests/api/mall.rs).
    await page.fill('[data-testid=mall-pickup-code]', `${code.slice(0, 4)} ${code.slice(4)}`);
    await page.keyboard.press('Enter');
    await page.click('[data-testid=mall-filter-completed]');
    await waitText(table, new RegExp(`${ITEM} × 1.*已完成`), 'the order completed');
    await page.locator('[data-testid=mall-orders] .ant-table-row-expand-icon').first().click();
    await waitText(page.locator('[data-testid^=mall-history-]').first(), /待审核.*会员.*已审核.*店长.*已完成.*店长/, 'the history with who');
    await page.click('[data-testid=mall-tab-items]');
    await waitText(page.locator(`[data-testid="mall-item-stock-${ITEM}"]`), /^2$/, 'the stock after one order');
    await page.click('[data-testid=mall-tab-settings]');
    await page.locator('[data-testid=mall-settings]').waitFor();
    await assertNoLeaks(page, { lang: 'zh-CN', where: 'mall settings', allow });
  });
  await ctx.close();

  const en = await context({ width: 1366, height: 768 }, 'en', 'mall-en');
  await step('mall-english', en.page, async () => {
    const p = en.page;
    await p.goto(`${base}/mall?tab=items`);
    await waitText(p.locator('[data-testid=mall-items] .ant-table-tbody'), /300 points.*2 per member.*Every member.*Always.*Pickup in store/, 'items in English');
    await assertNoLeaks(p, { lang: 'en', where: 'mall items', allow });
    await p.click('[data-testid=mall-item-new]');
    await p.locator('[data-testid=mall-item-name]').waitFor();
    await assertNoLeaks(p, { lang: 'en', where: 'mall item form', allow });
    await p.keyboard.press('Escape');
    await p.click('[data-testid=mall-tab-orders]');
    await p.click('[data-testid=mall-filter-all]');
    await waitText(p.locator('[data-testid=mall-orders] .ant-table-tbody'), /Completed.*Cancelled|Cancelled.*Completed/, 'orders in English');
    await assertNoLeaks(p, { lang: 'en', where: 'mall orders', allow });
    await p.click('[data-testid=mall-tab-settings]');
    await p.locator('[data-testid=mall-settings]').waitFor();
    await assertNoLeaks(p, { lang: 'en', where: 'mall settings', allow });
    await p.goto(`${base}/m/${s.slug}/mall`);
    await waitText(p.locator('[data-testid=portal-mall-orders]'), /Completed.*Cancelled/, 'my orders in English');
    await assertNoLeaks(p, { lang: 'en', where: 'portal mall', allow });
  });
  await en.ctx.close();

  const phone = await context({ width: 375, height: 740 }, 'zh-CN', 'mall-375');
  await step('mall-phone', phone.page, async () => {
    const p = phone.page;
    await p.goto(`${base}/mall`);
    await p.locator('[data-testid=mall-orders]').waitFor();
    await noHorizontalOverflow(p);
    await p.goto(`${base}/m/${s.slug}/mall`);
    await waitText(p.locator('[data-testid=portal-mall-balance]'), /700/, 'the portal on a phone');
    await noHorizontalOverflow(p);
    await p.click(`[data-testid="portal-mall-order-${ITEM}"]`);
    await p.locator('[data-testid=portal-mall-quantity]').waitFor();
    await modalFits(p);
    await p.keyboard.press('Escape');
  });
  await phone.ctx.close();
}

// Run on its own: a browser, the steps, screenshots in tests/e2e/artifacts/mall-*.png.
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
    await mallSteps({ browser, step, base, watch });
  } catch {
    failed = true;
  } finally {
    await browser.close();
  }
  process.exit(failed ? 1 : 0);
}
