// End-to-end steps for messages and webhooks. A business of its own is set up through the
// API; then its owner, in the browser (zh-CN, 1366x768): words the welcome e-mail in
// Chinese and sees the preview filled with sample values; adds a webhook endpoint (a
// receiver this script runs on 127.0.0.1, so the server must run with
// PATRON_WEBHOOKS_ALLOW_PRIVATE=true, as scripts/e2e does), opens its secret, sends a test
// call and checks the receiver got it signed with that secret (Standard Webhooks).
//
// Called by console.mjs (`messageSteps`); runs on its own too:
//   E2E_BASE_URL=http://127.0.0.1:8080 node tests/e2e/messages.mjs
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { api } from './desk.mjs';

const PASSWORD = 'e2e-messages-password-1';


/** A webhook receiver on 127.0.0.1 keeping every call. */
async function receiver() {
  const calls = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      calls.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(204).end();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}/hook`, calls, close: () => server.close() };
}

/** Standard Webhooks verification, as docs/webhooks.md publishes it. */
function verifies(secret, headers, body) {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const signed = Buffer.concat([Buffer.from(`${headers['webhook-id']}.${headers['webhook-timestamp']}.`), body]);
  const expected = `v1,${createHmac('sha256', key).update(signed).digest('base64')}`;
  return String(headers['webhook-signature'] ?? '').split(' ').includes(expected);
}

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

async function setUp(base) {
  const stamp = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
  const signed = await api(base, 'POST', '/signup', {
    body: {
      business_name: `消息测试 ${stamp}`,
      slug: `msg-${stamp}`,
      owner_name: '店长',
      email: `owner-${stamp}@messages.example.com`,
      password: PASSWORD,
      plan: 'pro',
    },
  });
  return { token: signed.session.token };
}

/** The steps. `step(name, page, fn)` and `watch(page, label)` are the caller's. */
export async function messageSteps({ browser, step, base, watch }) {
  const s = await setUp(base);
  const hooks = await receiver();
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN', reducedMotion: 'reduce' });
  await ctx.addInitScript((token) => localStorage.setItem('patron.token', token), s.token);
  const page = await ctx.newPage();
  page.setDefaultTimeout(15_000);
  watch(page, 'messages');
  try {
    await step('messages-template', page, async () => {
      await page.goto(`${base}/messages`);
      await page.click('[data-testid="template-member.created-zh-CN"]');
      await page.fill('[data-testid=template-subject]', '欢迎加入，{{member.name}}');
      await page.fill('[data-testid=template-body]', '{{member.name}}您好，卡号 {{member.card}}');
      await page.click('[data-testid=template-preview]');
      await waitText(page.locator('[data-testid=template-preview-result]'), /欢迎加入，李小龙[\s\S]*卡号 8800123456/, 'preview');
      await page.getByRole('dialog').getByRole('button', { name: /保\s*存/ }).click();
      await waitText(page.locator('[data-testid="template-member.created-zh-CN"]'), /欢迎加入/, 'saved subject');
    });

    await step('messages-webhook', page, async () => {
      await page.getByRole('tab', { name: 'Webhook' }).click();
      await page.click('[data-testid=webhook-add]');
      await page.fill('[data-testid=webhook-url]', hooks.url);
      await page.getByRole('dialog').getByRole('button', { name: /保\s*存/ }).click();
      await waitText(page.locator('.ant-tabs-tabpane-active .ant-table'), /127\.0\.0\.1/, 'endpoint listed');
      await page.click('[data-testid=webhook-test]');
      const until = Date.now() + 10_000;
      while (hooks.calls.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      if (hooks.calls.length !== 1) throw new Error(`expected one test call, got ${hooks.calls.length}`);
      await page.click('[data-testid=webhook-open]');
      const secret = await waitText(page.locator('[data-testid=webhook-secret]'), /^whsec_/, 'secret');
      const call = hooks.calls[0];
      if (JSON.parse(call.body.toString()).type !== 'webhook.test') throw new Error('not the test call');
      if (!verifies(secret.trim(), call.headers, call.body)) throw new Error('the test call does not verify with the shown secret');
      if (verifies('whsec_' + Buffer.alloc(24, 7).toString('base64'), call.headers, call.body)) {
        throw new Error('the test call verifies with another secret');
      }
    });

    await step('messages-sms', page, async () => {
      // The endpoint's drawer from the step before is closed first, as a clerk would.
      const drawer = page.locator('.ant-drawer-content-wrapper').filter({ hasText: '签名密钥' });
      if (await drawer.isVisible()) {
        await drawer.locator('.ant-drawer-close').click();
        await drawer.waitFor({ state: 'hidden' });
      }
      await page.getByRole('tab', { name: '短信' }).click();
      await waitText(page.locator('[data-testid=sms-provider]'), /开发用发件箱|短信网关/, 'how texts leave');
      const before = await waitText(page.locator('[data-testid=sms-used]'), /^\d+/, 'texts this month');
      await page.fill('[data-testid=sms-test-phone]', '13800005001');
      await page.click('[data-testid=sms-test-send]');
      await waitText(page.locator('.ant-message'), /测试短信已发出/, 'sent');
      const used = (text) => Number(/^(\d+)/.exec(text.trim())?.[1]);
      const until = Date.now() + 10_000;
      let after = before;
      while (used(after) !== used(before) + 1 && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 200));
        after = (await page.locator('[data-testid=sms-used]').textContent()) ?? '';
      }
      if (used(after) !== used(before) + 1) throw new Error(`the month's count went from ${before} to ${after}`);
    });
  } finally {
    hooks.close();
    await ctx.close();
  }
}

// Run on its own: a browser, the steps, screenshots in tests/e2e/artifacts/messages-*.png.
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
    page.on('console', (msg) => msg.type() === 'error' && errors.push(`[${label}] ${msg.text()}`));
    page.on('pageerror', (err) => errors.push(`[${label}] page error: ${err.message}`));
  };
  const step = async (name, page, fn) => {
    try {
      await fn();
      await page.screenshot({ path: resolve(here, 'artifacts', `messages-${name}.png`), fullPage: true });
      if (errors.length) throw new Error(`browser console errors:\n  ${errors.join('\n  ')}`);
      console.log(`ok   ${name}`);
    } catch (err) {
      failed = true;
      await page.screenshot({ path: resolve(here, 'artifacts', `messages-${name}-FAILED.png`), fullPage: true }).catch(() => {});
      console.error(`FAIL ${name}: ${err instanceof Error ? err.stack : err}`);
      throw err;
    }
  };
  try {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(resolve(here, 'artifacts'), { recursive: true });
    await messageSteps({ browser, step, base, watch });
  } catch {
    failed = true;
  } finally {
    await browser.close();
  }
  process.exit(failed ? 1 : 0);
}
