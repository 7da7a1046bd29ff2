// End-to-end steps for campaigns. A business of its own is set up through the API (pro
// plan, three members tagged 春季, two with an e-mail); then its owner, in the browser
// (zh-CN, 1366x768): writes a campaign to the tag by e-mail and the portal's inbox, previews
// it (3 members, 2 by e-mail, the month's e-mail quota), sends it, and finds it in the list;
// schedules a second and cancels it. In English the page shows no Chinese but the
// business's own words; at 375px nothing scrolls sideways.
//
// Called by console.mjs (`campaignSteps`); runs on its own too:
//   E2E_BASE_URL=http://127.0.0.1:8080 node tests/e2e/campaigns.mjs
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { api } from './desk.mjs';
import { assertNoLeaks } from './leaks.mjs';

const PASSWORD = 'e2e-campaigns-password-1';
const NAME = '春季新品上市';

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

async function setUp(base) {
  const stamp = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
  const slug = `cmp-${stamp}`;
  const business = `营销测试 ${stamp}`;
  const email = `owner-${stamp}@campaigns.example.com`;
  const signed = await api(base, 'POST', '/signup', {
    body: { business_name: business, slug, owner_name: '店长', email, password: PASSWORD, plan: 'pro' },
  });
  const owner = signed.session.token;
  for (const [name, mail] of [['小春', `a-${stamp}@example.com`], ['小夏', `b-${stamp}@example.com`], ['小秋', undefined]]) {
    await api(base, 'POST', '/members', { token: owner, body: { name, tags: ['春季'], ...(mail ? { email: mail } : {}) } });
  }
  return { slug, business, owner };
}

/** The campaign steps. `step(name, page, fn)` and `watch(page, label)` are the caller's. */
export async function campaignSteps({ browser, step, base, watch }) {
  const s = await setUp(base);
  const allow = [s.business, s.slug, NAME, '店长', '春季', '下周活动', '欢迎光临', '{{member.name}}', '{{member.card}}', '{{business.name}}'];
  const context = async (viewport, lang, label) => {
    const ctx = await browser.newContext({
      viewport,
      ...(viewport.width < 500 ? { deviceScaleFactor: 2, isMobile: true, hasTouch: true } : {}),
      locale: lang,
      reducedMotion: 'reduce',
    });
    await ctx.addInitScript(
      ({ token, lang }) => {
        localStorage.setItem('patron.token', token);
        localStorage.setItem('patron.lang', lang);
      },
      { token: s.owner, lang },
    );
    const page = await ctx.newPage();
    page.setDefaultTimeout(15_000);
    watch(page, label);
    return { ctx, page };
  };

  const { ctx, page } = await context({ width: 1366, height: 768 }, 'zh-CN', 'campaigns');
  try {
    await step('campaigns-preview-send', page, async () => {
      await page.goto(`${base}/campaigns`);
      await page.locator('[data-testid=campaigns-page]').waitFor();
      await page.click('[data-testid=campaign-new]');
      await page.fill('[data-testid=campaign-name-input]', NAME);
      const tags = page.locator('[data-testid=campaign-form] .ant-select').first();
      await tags.click();
      await page.keyboard.type('春季');
      await page.keyboard.press('Enter');
      await page.keyboard.press('Escape');
      await page.getByLabel('邮件', { exact: true }).check();
      await page.fill('[data-testid=campaign-inbox-zh-CN-subject]', '欢迎光临');
      await page.fill('[data-testid=campaign-inbox-zh-CN-body]', '{{member.name}}，春季新品上市');
      await page.getByRole('tab', { name: /邮件 · 简体中文/ }).click();
      await page.fill('[data-testid=campaign-email-zh-CN-subject]', '欢迎光临');
      await page.fill('[data-testid=campaign-email-zh-CN-body]', '{{member.name}}，春季新品上市');
      await page.click('[data-testid=campaign-preview]');
      await waitText(page.locator('[data-testid=campaign-preview-members]'), /^3$/, 'members found');
      await waitText(page.locator('[data-testid=campaign-preview-email]'), /^2$/, 'by e-mail');
      await waitText(page.locator('[data-testid=campaign-quota-emails_per_month]'), /本次 2/, 'the quota cost');
      await assertNoLeaks(page, { lang: 'zh-CN', where: 'campaign form', allow });
      await page.click('[data-testid=campaign-send]');
      await page.locator('[data-testid=campaign-form]').waitFor({ state: 'detached' });
      await waitText(page.locator('.ant-table-tbody'), new RegExp(NAME), 'the campaign listed');
    });

    await step('campaigns-schedule-cancel', page, async () => {
      await page.click('[data-testid=campaign-new]');
      await page.fill('[data-testid=campaign-name-input]', '下周活动');
      await page.fill('[data-testid=campaign-inbox-zh-CN-subject]', '下周活动');
      await page.fill('[data-testid=campaign-inbox-zh-CN-body]', '下周见');
      await page.getByLabel('定时发送').check();
      const next = new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10);
      await page.fill('[data-testid=campaign-send-at]', `${next}T10:00`);
      await page.click('[data-testid=campaign-send]');
      await page.locator('[data-testid=campaign-form]').waitFor({ state: 'detached' });
      await waitText(page.locator('.ant-table-tbody'), /下周活动[\s\S]*已定时/, 'the scheduled campaign');
      await page.click('[data-testid=campaign-cancel]');
      await page.getByRole('button', { name: '取消活动' }).last().click();
      await waitText(page.locator('.ant-table-tbody'), /已取消/, 'cancelled');
    });
  } finally {
    await ctx.close();
  }

  const en = await context({ width: 1366, height: 768 }, 'en', 'campaigns-en');
  await step('campaigns-en', en.page, async () => {
    const p = en.page;
    await p.goto(`${base}/campaigns`);
    await waitText(p.locator('.ant-table-tbody'), new RegExp(NAME), 'the list in English');
    await assertNoLeaks(p, { lang: 'en', where: 'campaigns', allow });
    await p.click('[data-testid=campaign-new]');
    await p.locator('[data-testid=campaign-name-input]').waitFor();
    await assertNoLeaks(p, { lang: 'en', where: 'campaign form', allow });
  });
  await en.ctx.close();

  const phone = await context({ width: 375, height: 740 }, 'zh-CN', 'campaigns-375');
  await step('campaigns-phone', phone.page, async () => {
    const p = phone.page;
    await p.goto(`${base}/campaigns`);
    await waitText(p.locator('.ant-table-tbody'), new RegExp(NAME), 'the list on a phone');
    await noHorizontalOverflow(p);
    await p.click('[data-testid=campaign-new]');
    await p.locator('[data-testid=campaign-name-input]').waitFor();
    await noHorizontalOverflow(p);
  });
  await phone.ctx.close();
}

// Run on its own: a browser, the steps, screenshots in tests/e2e/artifacts/campaigns-*.png.
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
      if (msg.type() !== 'error') return;
      errors.push(`[${label}] ${msg.text()}`);
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
    await campaignSteps({ browser, step, base, watch });
  } catch {
    failed = true;
  } finally {
    await browser.close();
  }
  process.exit(failed ? 1 : 0);
}
