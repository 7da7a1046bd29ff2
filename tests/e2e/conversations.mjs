// End-to-end steps for conversations. A business of its own is set up through the API (pro
// plan, a member registered in the portal); then the member, in the portal (zh-CN, 375px),
// asks a question under 联系我们; the owner, in the console (1366x768), sees it waiting,
// opens it, assigns it to themselves, answers and notes a follow-up; the member sees the
// answer unread on the tab, opens it, and the count goes. In English the pages show no
// Chinese but what people wrote; at 375px nothing scrolls sideways.
//
// Called by console.mjs (`conversationSteps`); runs on its own too:
//   E2E_BASE_URL=http://127.0.0.1:8080 node tests/e2e/conversations.mjs
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { api } from './desk.mjs';
import { assertNoLeaks } from './leaks.mjs';

const PASSWORD = 'e2e-talk-password-1';
const SUBJECT = '年卡退款';
const QUESTION = '上周办的年卡可以退款吗？';
const ANSWER = '可以的，请带上收据到前台办理。';

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
  const slug = `talk-${stamp}`;
  const business = `咨询测试 ${stamp}`;
  const email = `owner-${stamp}@talk.example.com`;
  const signed = await api(base, 'POST', '/signup', {
    body: { business_name: business, slug, owner_name: '店长', email, password: PASSWORD, plan: 'pro' },
  });
  const owner = signed.session.token;
  const tail = String(Date.now()).slice(-4);
  const member = await portalMember(base, slug, owner, '小明', `136${tail}5555`);
  return { slug, business, owner, member };
}

/** The conversation steps. `step(name, page, fn)` and `watch(page, label)` are the caller's. */
export async function conversationSteps({ browser, step, base, watch }) {
  const s = await setUp(base);
  const allow = [s.business, s.slug, SUBJECT, QUESTION, ANSWER, '店长', '小明', '回电'];
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

  const phone = await context({ width: 375, height: 740 }, 'zh-CN', 'conversations-375');
  const desk = await context({ width: 1366, height: 768 }, 'zh-CN', 'conversations');
  try {
    await step('conversations-portal-ask', phone.page, async () => {
      const p = phone.page;
      await p.goto(`${base}/m/${s.slug}`);
      await p.click('[data-testid=portal-tab-conversations]');
      await p.locator('[data-testid=portal-conversations]').waitFor();
      await p.click('[data-testid=conversation-new]');
      await p.fill('[data-testid=conversation-new-subject]', SUBJECT);
      await p.fill('[data-testid=conversation-new-body]', QUESTION);
      await assertNoLeaks(p, { lang: 'zh-CN', where: 'portal new conversation', allow });
      await p.click('[data-testid=conversation-new-send]');
      await waitText(p.locator('[data-testid=portal-conversation-thread]'), new RegExp(`${SUBJECT}[\\s\\S]*已发送[\\s\\S]*${QUESTION}`), 'the thread opened');
      await noHorizontalOverflow(p);
    });

    await step('conversations-console-answer', desk.page, async () => {
      const p = desk.page;
      await p.goto(`${base}/conversations`);
      await p.locator('[data-testid=conversations-page]').waitFor();
      await waitText(p.locator('[data-testid=conversations-waiting]'), /1/, 'one thread waiting');
      const row = p.locator('[data-testid=conversation-row]').first();
      await waitText(row, new RegExp(`${SUBJECT}[\\s\\S]*小明[\\s\\S]*待回复`), 'the thread listed');
      await row.click();
      await p.locator('[data-testid=conversation-thread]').waitFor();
      await waitText(p.locator('[data-testid=thread-message]').first(), new RegExp(QUESTION), 'the question');
      await p.click('[data-testid=thread-assignee]');
      await p.locator('.ant-select-item-option').filter({ hasText: '店长' }).first().click();
      await waitText(p.locator('[data-testid=conversation-thread]'), /店长/, 'assigned');
      await p.fill('[data-testid=thread-reply]', ANSWER);
      await p.click('[data-testid=thread-send]');
      await waitText(p.locator('[data-testid=conversation-thread] [data-testid=conversation-status]'), /待会员回复/, 'answered');
      await p.locator('[data-testid=thread-message][data-author=staff]').waitFor();
      const due = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
      await p.getByPlaceholder('备注（如：回电说明退款）').fill('回电确认');
      await p.click('[data-testid=follow-up-date]');
      await p.keyboard.type(due);
      // Enter takes the typed day and sends the form.
      await p.keyboard.press('Enter');
      await waitText(p.locator('[data-testid=thread-follow-up]').first(), new RegExp(`${due}[\\s\\S]*回电确认`), 'the follow-up');
      await assertNoLeaks(p, { lang: 'zh-CN', where: 'conversation thread', allow });
    });

    await step('conversations-portal-answer', phone.page, async () => {
      const p = phone.page;
      await p.goto(`${base}/m/${s.slug}`);
      await waitText(p.locator('[data-testid=portal-tab-conversations]'), /1/, 'the unread answer on the tab');
      await p.click('[data-testid=portal-tab-conversations]');
      await p.locator('[data-testid=portal-conversation][data-unread="1"]').click();
      await waitText(p.locator('[data-testid=portal-message][data-author=staff]'), new RegExp(`店长[\\s\\S]*${ANSWER}`), 'the answer');
      await p.goto(`${base}/m/${s.slug}/conversations`);
      await p.locator('[data-testid=portal-conversation][data-unread="0"]').waitFor();
      await noHorizontalOverflow(p);
    });
  } finally {
    await desk.ctx.close();
    await phone.ctx.close();
  }

  const en = await context({ width: 1366, height: 768 }, 'en', 'conversations-en');
  await step('conversations-en', en.page, async () => {
    const p = en.page;
    await p.goto(`${base}/conversations`);
    await waitText(p.locator('.ant-table-tbody'), new RegExp(SUBJECT), 'the list in English');
    await assertNoLeaks(p, { lang: 'en', where: 'conversations', allow });
    await p.goto(`${base}/m/${s.slug}/conversations`);
    await p.locator('[data-testid=portal-conversations]').waitFor();
    await assertNoLeaks(p, { lang: 'en', where: 'portal conversations', allow });
  });
  await en.ctx.close();

  const small = await context({ width: 375, height: 740 }, 'zh-CN', 'conversations-console-375');
  await step('conversations-console-phone', small.page, async () => {
    const p = small.page;
    await p.goto(`${base}/conversations`);
    await waitText(p.locator('.ant-table-tbody'), new RegExp(SUBJECT), 'the list on a phone');
    await noHorizontalOverflow(p);
  });
  await small.ctx.close();
}

// Run on its own: a browser, the steps, screenshots in tests/e2e/artifacts/conversations-*.png.
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
    await conversationSteps({ browser, step, base, watch });
  } catch {
    failed = true;
  } finally {
    await browser.close();
  }
  process.exit(failed ? 1 : 0);
}
