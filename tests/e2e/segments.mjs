// End-to-end steps for saved segments. A business of its own is set up through the API
// (pro plan, two members tagged 常客 and one not); then its owner, in the browser (zh-CN,
// 1366x768): searches the member list by the tag, saves the search as a segment, finds it
// on the segments page with its live count (2), opens it back in the member list (the tag
// filled in, 2 members), renames it, and picks it as a campaign's audience. In English the
// page shows no Chinese but the business's own words; at 375px nothing scrolls sideways.
//
// Called by console.mjs (`segmentSteps`); runs on its own too:
//   E2E_BASE_URL=http://127.0.0.1:8080 node tests/e2e/segments.mjs
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { api } from './desk.mjs';
import { assertNoLeaks } from './leaks.mjs';

const PASSWORD = 'e2e-segments-password-1';
const NAME = '常客分群';
const RENAMED = '老客户';

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
  const slug = `seg-${stamp}`;
  const business = `分群测试 ${stamp}`;
  const email = `owner-${stamp}@segments.example.com`;
  const signed = await api(base, 'POST', '/signup', {
    body: { business_name: business, slug, owner_name: '店长', email, password: PASSWORD, plan: 'pro' },
  });
  const owner = signed.session.token;
  for (const [name, tags] of [['甲客', ['常客']], ['乙客', ['常客']], ['丙客', []]]) {
    await api(base, 'POST', '/members', { token: owner, body: { name, tags } });
  }
  return { slug, business, owner };
}

/** The segment steps. `step(name, page, fn)` and `watch(page, label)` are the caller's. */
export async function segmentSteps({ browser, step, base, watch }) {
  const s = await setUp(base);
  const allow = [s.business, s.slug, NAME, RENAMED, '店长', '常客', '甲客', '乙客', '丙客'];
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

  const { ctx, page } = await context({ width: 1366, height: 768 }, 'zh-CN', 'segments');
  try {
    await step('segments-save-from-list', page, async () => {
      await page.goto(`${base}/members`);
      await waitText(page.locator('[data-testid=member-total]'), /3/, 'every member');
      await page.getByText(/更多条件/).click();
      const tags = page.locator('.member-search .ant-select').first();
      await tags.click();
      await page.keyboard.type('常客');
      await page.keyboard.press('Enter');
      await page.click('[data-testid=member-search]');
      await waitText(page.locator('[data-testid=member-total]'), /2/, 'the tagged members');
      await page.click('[data-testid=segment-save-as]');
      await page.fill('[data-testid=segment-new-name]', NAME);
      await page.getByRole('button', { name: /保\s*存/ }).last().click();
      await page.locator('[data-testid=segment-save-into]').waitFor();
    });

    await step('segments-list-open-rename', page, async () => {
      await page.goto(`${base}/segments`);
      await waitText(page.locator('.ant-table-tbody'), new RegExp(NAME), 'the segment listed');
      await waitText(page.locator('[data-testid=segment-count]').first(), /^2$/, 'its live count');
      await assertNoLeaks(page, { lang: 'zh-CN', where: 'segments', allow });
      await page.click('[data-testid=segment-open]');
      await page.waitForURL(/\/members\?segment=/);
      await waitText(page.locator('[data-testid=member-total]'), /2/, 'the segment opened');
      await page.goto(`${base}/segments`);
      await page.click('[data-testid=segment-rename]');
      await page.fill('[data-testid=segment-name-input]', RENAMED);
      await page.getByRole('button', { name: /保\s*存/ }).last().click();
      await waitText(page.locator('.ant-table-tbody'), new RegExp(RENAMED), 'renamed');
    });

    await step('segments-campaign-audience', page, async () => {
      await page.goto(`${base}/campaigns`);
      await page.click('[data-testid=campaign-new]');
      await page.getByLabel('已保存的分群').check();
      await page.locator('[data-testid=campaign-segment]').click();
      await page.getByTitle(RENAMED).click();
      await page.click('[data-testid=campaign-preview]');
      await waitText(page.locator('[data-testid=campaign-preview-members]'), /^2$/, 'the segment as audience');
    });
  } finally {
    await ctx.close();
  }

  const en = await context({ width: 1366, height: 768 }, 'en', 'segments-en');
  await step('segments-en', en.page, async () => {
    const p = en.page;
    await p.goto(`${base}/segments`);
    await waitText(p.locator('.ant-table-tbody'), new RegExp(RENAMED), 'the list in English');
    await assertNoLeaks(p, { lang: 'en', where: 'segments', allow });
  });
  await en.ctx.close();

  const phone = await context({ width: 375, height: 740 }, 'zh-CN', 'segments-375');
  await step('segments-phone', phone.page, async () => {
    const p = phone.page;
    await p.goto(`${base}/segments`);
    await waitText(p.locator('.ant-table-tbody'), new RegExp(RENAMED), 'the list on a phone');
    await noHorizontalOverflow(p);
    await p.goto(`${base}/members`);
    await p.locator('[data-testid=member-total]').waitFor();
    await noHorizontalOverflow(p);
  });
  await phone.ctx.close();
}

// Run on its own: a browser, the steps, screenshots in tests/e2e/artifacts/segments-*.png.
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
    await segmentSteps({ browser, step, base, watch });
  } catch {
    failed = true;
  } finally {
    await browser.close();
  }
  process.exit(failed ? 1 : 0);
}
