// End-to-end steps for notices. A business of its own is set up through the API (pro plan,
// a member registered in the portal); then its owner, in the browser (zh-CN, 1366x768):
// writes a pinned notice, switches the birthday notice on and words it with the preview;
// the member reads the notice in the portal's 消息 tab (the unread count goes down) and
// turns marketing e-mail off; a forged unsubscribe link is refused. The staff login page's
// 忘记密码 leads to the reset request, which answers the same for any address. In English
// the pages show no Chinese; at 375px nothing scrolls sideways.
//
// Called by console.mjs (`noticeSteps`); runs on its own too:
//   E2E_BASE_URL=http://127.0.0.1:8080 node tests/e2e/notices.mjs
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { api } from './desk.mjs';
import { assertNoLeaks } from './leaks.mjs';

const PASSWORD = 'e2e-notices-password-1';
const TITLE = '元旦营业时间';

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

async function portalMember(base, slug, owner, name, phone) {
  await api(base, 'POST', `/portal/${slug}/codes`, { body: { phone, purpose: 'register' } });
  const texts = await api(base, 'GET', `/sms-outbox?phone=${encodeURIComponent(phone)}`, { token: owner });
  const code = /(\d{6})/.exec(texts[0].body.replace(/^(【[^】]*】|\[[^\]]*\])/, ''))[1];
  return api(base, 'POST', `/portal/${slug}/register`, {
    body: { profile: { name, phone }, code, password: PASSWORD },
  });
}

async function setUp(base) {
  const stamp = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
  const slug = `ntc-${stamp}`;
  const business = `公告测试 ${stamp}`;
  const email = `owner-${stamp}@notices.example.com`;
  const signed = await api(base, 'POST', '/signup', {
    body: { business_name: business, slug, owner_name: '店长', email, password: PASSWORD, plan: 'pro' },
  });
  const owner = signed.session.token;
  const tail = String(Date.now()).slice(-4);
  const member = await portalMember(base, slug, owner, '小雪', `137${tail}3333`);
  return { slug, business, owner, email, member };
}

/** The notice steps. `step(name, page, fn)` and `watch(page, label)` are the caller's. */
export async function noticeSteps({ browser, step, base, watch, expect = () => {} }) {
  const s = await setUp(base);
  const allow = [s.business, s.slug, TITLE, '店长', '小雪', '生日快乐', '除夕'];
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

  const { ctx, page } = await context({ width: 1366, height: 768 }, 'zh-CN', 'notices');
  try {
    await step('notices-create', page, async () => {
      await page.goto(`${base}/notices`);
      await page.locator('[data-testid=notices-page]').waitFor();
      await page.click('[data-testid=notice-new]');
      await page.fill('[data-testid=notice-title-input]', TITLE);
      await page.fill('[data-testid=notice-body-input]', '除夕照常营业到 18:00。');
      await page.click('[data-testid=notice-pinned]');
      await assertNoLeaks(page, { lang: 'zh-CN', where: 'notice form', allow });
      await page.click('[data-testid=notice-save]');
      await waitText(page.locator('.ant-tabs-tabpane-active .ant-table-tbody'), new RegExp(`置顶[\\s\\S]*${TITLE}[\\s\\S]*显示中`), 'the notice listed');
    });

    await step('notices-scheduled', page, async () => {
      await page.getByRole('tab', { name: '定时通知' }).click();
      await page.click('[data-testid="scheduled-word-birthday"]');
      await page.fill('[data-testid=template-subject]', '生日快乐，{{member.name}}');
      await page.fill('[data-testid=template-body]', '{{business.name}}祝您生日快乐！');
      await page.click('[data-testid=template-preview]');
      await waitText(page.locator('[data-testid=template-preview-result]'), /生日快乐，李小龙[\s\S]*祝您生日快乐/, 'preview');
      await page.getByRole('dialog').getByRole('button', { name: /保\s*存/ }).click();
      await page.getByRole('dialog').waitFor({ state: 'detached' });
      await page.click('[data-testid="scheduled-birthday"]');
      const until = Date.now() + 10_000;
      let on = false;
      while (!on && Date.now() < until) {
        const list = await api(base, 'GET', '/notices/scheduled', { token: s.owner });
        on = list.some((x) => x.occasion === 'birthday' && x.enabled && x.worded);
        if (!on) await new Promise((r) => setTimeout(r, 200));
      }
      if (!on) throw new Error('the birthday notice is not on and worded');
    });

    await step('notices-portal-inbox', page, async () => {
      await page.goto(`${base}/m/${s.slug}`);
      await waitText(page.locator('[data-testid=portal-tab-inbox]'), /1/, 'the unread count on the tab');
      await page.click('[data-testid=portal-tab-inbox]');
      await page.locator('[data-testid=portal-inbox]').waitFor();
      const item = page.locator('[data-testid=inbox-item]').first();
      await waitText(item, new RegExp(`公告[\\s\\S]*置顶[\\s\\S]*${TITLE}`), 'the notice in the inbox');
      await item.click();
      await waitText(page.locator('[data-testid=inbox-body]'), /除夕照常营业/, 'the notice opened');
      await page.locator('[data-testid=inbox-item][data-read=yes]').waitFor();
      await assertNoLeaks(page, { lang: 'zh-CN', where: 'portal inbox', allow });
      await page.click('[data-testid=inbox-marketing]');
      const until = Date.now() + 10_000;
      let off = false;
      while (!off && Date.now() < until) {
        const prefs = await api(base, 'GET', `/portal/${s.slug}/me/contact-preferences`, { token: s.member.token });
        off = prefs.marketing_email === false;
        if (!off) await new Promise((r) => setTimeout(r, 200));
      }
      if (!off) throw new Error('marketing e-mail was not turned off');
    });

    await step('notices-unsubscribe-forged', page, async () => {
      expect(/status of 422/);
      await page.goto(`${base}/m/${s.slug}/unsubscribe?token=${s.member.member.id.replaceAll('-', '')}.forged`);
      await page.locator('[data-testid=unsubscribe-failed]').waitFor();
    });
  } finally {
    await ctx.close();
  }

  // The staff login's 忘记密码, signed out.
  const anon = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN', reducedMotion: 'reduce' });
  const a = await anon.newPage();
  a.setDefaultTimeout(15_000);
  watch(a, 'notices-reset');
  try {
    await step('notices-forgot-password', a, async () => {
      await a.goto(`${base}/login`);
      await a.click('[data-testid=forgot-password]');
      await a.waitForURL(`${base}/forgot-password`);
      await a.fill('#forgot_tenant', s.slug);
      await a.fill('#forgot_email', s.email);
      await a.click('[data-testid=reset-request]');
      await a.locator('[data-testid=reset-sent]').waitFor();
      expect(/status of 422/);
      await a.goto(`${base}/reset-password?token=prs_1_${'x'.repeat(43)}`);
      await a.fill('#reset_new_password', 'a fine new password 9');
      await a.fill('#reset_confirm', 'a fine new password 9');
      await a.click('[data-testid=reset-confirm]');
      await a.getByRole('alert').waitFor();
    });
  } finally {
    await anon.close();
  }

  const en = await context({ width: 1366, height: 768 }, 'en', 'notices-en');
  await step('notices-en', en.page, async () => {
    const p = en.page;
    await p.goto(`${base}/notices`);
    await waitText(p.locator('.ant-tabs-tabpane-active .ant-table-tbody'), new RegExp(TITLE), 'the list in English');
    await assertNoLeaks(p, { lang: 'en', where: 'notices', allow });
    await p.getByRole('tab', { name: 'Scheduled notices' }).click();
    await p.locator('[data-testid="scheduled-points.expiring"]').waitFor();
    await assertNoLeaks(p, { lang: 'en', where: 'scheduled notices', allow });
    await p.goto(`${base}/m/${s.slug}/inbox`);
    await p.locator('[data-testid=portal-inbox]').waitFor();
    await assertNoLeaks(p, { lang: 'en', where: 'portal inbox', allow });
  });
  await en.ctx.close();

  const phone = await context({ width: 375, height: 740 }, 'zh-CN', 'notices-375');
  await step('notices-phone', phone.page, async () => {
    const p = phone.page;
    await p.goto(`${base}/notices`);
    await waitText(p.locator('.ant-table-tbody'), new RegExp(TITLE), 'the list on a phone');
    await noHorizontalOverflow(p);
    await p.goto(`${base}/m/${s.slug}/inbox`);
    await p.locator('[data-testid=inbox-item]').first().waitFor();
    await noHorizontalOverflow(p);
  });
  await phone.ctx.close();
}

// Run on its own: a browser, the steps, screenshots in tests/e2e/artifacts/notices-*.png.
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
      // The forged unsubscribe link and the made-up reset token are refused on purpose.
      if (/status of 422/.test(msg.text())) return;
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
    await noticeSteps({ browser, step, base, watch });
  } catch {
    failed = true;
  } finally {
    await browser.close();
  }
  process.exit(failed ? 1 : 0);
}
