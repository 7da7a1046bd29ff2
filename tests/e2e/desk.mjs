// End-to-end steps for the front-desk workbench. A business of its own is set up through the
// API (a point per yuan, 5 points a check-in, two members whose phones end in 6666, one
// member registered in the portal, a front-desk clerk); then the clerk, in the browser:
// lands on the desk after login; finds the two 6666 members by typing on the page (as a
// scanner does), picks one; records a purchase, a check-in and a refund from the quick
// actions and sees the points each time; opens the portal member by the code from their
// portal; is refused an expired code. At 1366x768, then the lookup again at 375px.
//
// Called by console.mjs (`deskSteps`); runs on its own too:
//   E2E_BASE_URL=http://127.0.0.1:8080 PATRON_PII_KEY=... node tests/e2e/desk.mjs
import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const PASSWORD = 'e2e-desk-password-1';

/** One API call's status and body, whatever the status (for refusals asked for on purpose). */
export async function apiAnswer(base, method, path, { token, body } = {}) {
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { ok: res.ok, status: res.status, text, body: text ? JSON.parse(text) : undefined };
}

/** One API call as JSON; throws on a non-2xx answer. Shared by the browser tests. */
export async function api(base, method, path, options = {}) {
  const r = await apiAnswer(base, method, path, options);
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
  return r.body;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function base32(bytes) {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += CROCKFORD[(acc >> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += CROCKFORD[(acc << (5 - bits)) & 31];
  return out;
}

/**
 * A genuine member code issued two minutes ago, signed as the server signs (the blind-index
 * HMAC of the development key), or undefined without the key.
 */
function expiredCode(tenantId, memberId) {
  const key = process.env.PATRON_PII_KEY;
  if (!key || process.env.PATRON_PII_INDEX_KEY) return undefined;
  const current = Buffer.from(key.trim(), 'base64');
  const indexKey = createHmac('sha256', current).update('patron blind index v1').digest();
  const issued = Math.floor(Date.now() / 1000) - 120;
  const mac = createHmac('sha256', indexKey)
    .update(`member_code\0${tenantId}:${memberId}:${issued}`)
    .digest()
    .subarray(0, 5);
  const id = Buffer.from(memberId.replace(/-/g, ''), 'hex');
  const at = Buffer.alloc(4);
  at.writeUInt32BE(issued);
  return `PM${base32(Buffer.concat([id, at, mac]))}`;
}

/** Sets up a business for the desk through the API; answers what the steps need. */
async function setUp(base) {
  const stamp = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
  const slug = `desk-${stamp}`;
  const signed = await api(base, 'POST', '/signup', {
    body: {
      business_name: `前台测试 ${stamp}`,
      slug,
      owner_name: '店长',
      email: `owner-${stamp}@desk.example.com`,
      password: PASSWORD,
      plan: 'pro',
    },
  });
  const owner = signed.session.token;
  const tenantId = signed.tenant.id;
  await api(base, 'POST', '/rules/purchase/publish', {
    token: owner,
    body: { script: 'award(floor_div(event.amount, 100), "1 point per yuan");' },
  });
  await api(base, 'PUT', '/points/settings', { token: owner, body: { check_in_points: 5 } });
  const tail = String(Date.now()).slice(-4);
  const wang = await api(base, 'POST', '/members', {
    token: owner,
    body: { name: '王一', phone: `136${tail}6666` },
  });
  await api(base, 'POST', '/members', { token: owner, body: { name: '王二', phone: `137${tail}6666` } });
  // A member who registered in the portal, for their code.
  const phone = `139${tail}1234`;
  await api(base, 'POST', `/portal/${slug}/codes`, { body: { phone, purpose: 'register' } });
  const texts = await api(base, 'GET', `/sms-outbox?phone=${encodeURIComponent(phone)}`, { token: owner });
  // After the business's name in brackets, which may hold digits of its own.
  const code = /(\d{6})/.exec(texts[0].body.replace(/^(【[^】]*】|\[[^\]]*\])/, ''))[1];
  const portal = await api(base, 'POST', `/portal/${slug}/register`, {
    body: { profile: { name: '会员码用户', phone }, code, password: PASSWORD },
  });
  const clerkEmail = `clerk-${stamp}@desk.example.com`;
  await api(base, 'POST', '/staff', {
    token: owner,
    body: { email: clerkEmail, name: '前台小李', password: PASSWORD, roles: ['front_desk'] },
  });
  return { slug, tenantId, owner, wang, portal, clerkEmail };
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

async function noHorizontalOverflow(page) {
  const { scroll, width } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    width: window.innerWidth,
  }));
  if (scroll > width) throw new Error(`horizontal overflow: scrollWidth ${scroll} > ${width}`);
}

/** Types on the page itself (nothing focused), as a USB scanner does, then Enter. */
async function scan(page, text) {
  await page.locator('h2').first().click();
  await page.keyboard.type(text, { delay: 15 });
  await page.keyboard.press('Enter');
}

/**
 * The desk's steps. `step(name, page, fn)` and `watch(page, label)` are the caller's;
 * `expect(re)` announces a console error the next step causes on purpose.
 */
export async function deskSteps({ browser, step, base, watch, expect = () => {} }) {
  const s = await setUp(base);
  const login = await api(base, 'POST', '/auth/login', {
    body: { tenant: s.slug, email: s.clerkEmail, password: PASSWORD },
  });
  const desktop = await browser.newContext({
    viewport: { width: 1366, height: 768 },
    locale: 'zh-CN',
    reducedMotion: 'reduce',
  });
  await desktop.addInitScript((token) => localStorage.setItem('patron.token', token), login.token);
  const page = await desktop.newPage();
  page.setDefaultTimeout(15_000);
  watch(page, 'desk');

  await step('desk-landing', page, async () => {
    await page.goto(`${base}/`);
    await page.waitForURL(`${base}/desk`);
    await page.locator('input[data-testid=desk-box]').waitFor();
    const focused = await page.evaluate(() => document.activeElement?.getAttribute('data-testid') === 'desk-box');
    if (!focused) throw new Error('the lookup box is not focused');
  });

  await step('desk-last-four', page, async () => {
    await scan(page, '6666');
    const matches = page.locator('[data-testid=desk-match]');
    await matches.nth(1).waitFor();
    if ((await matches.count()) !== 2) throw new Error(`expected 2 matches, got ${await matches.count()}`);
    await waitText(page.locator('[data-testid=desk-matches]'), /136 \*\*\*\* 6666/, 'masked phone');
    await page.locator('[data-testid=desk-match]', { hasText: '王一' }).click();
    await waitText(page.locator('[data-testid=summary-name]'), /王一/, 'summary');
  });

  await step('desk-purchase', page, async () => {
    await page.click('[data-testid=action-purchase]');
    await page.fill('#desk-purchase_amount', '88');
    // Twice, fast: one purchase.
    await page.locator('[data-testid=purchase-submit]').dblclick();
    await waitText(page.locator('[data-testid=purchase-result]'), /88/, 'points earned');
    await page.getByRole('dialog').getByRole('button', { name: '关闭' }).click();
    await waitText(page.locator('[data-testid=summary-balance]'), /88/, 'balance after the purchase');
    const history = await api(base, 'GET', `/members/${s.wang.id}/purchases`, { token: s.owner });
    if (history.total_count !== 1) throw new Error(`recorded ${history.total_count} purchases`);
  });

  await step('desk-check-in', page, async () => {
    await page.click('[data-testid=action-check-in]');
    await page.getByRole('dialog').getByRole('button', { name: '到店签到' }).click();
    await page.getByText(/签到成功/).waitFor();
    await waitText(page.locator('[data-testid=summary-balance]'), /93/, 'balance after the check-in');
    await waitText(page.locator('[data-testid=summary-last-visit]'), /\d{4}-\d{2}-\d{2}/, 'last visit');
  });

  await step('desk-refund', page, async () => {
    await page.click('[data-testid=action-refund]');
    await page.locator('[data-testid=refund-purchase]').first().click();
    await page.click('[data-testid=refund-submit]');
    await waitText(page.locator('[data-testid=refund-result]'), /88/, 'points taken back');
    await page.getByRole('dialog').getByRole('button', { name: '关闭' }).click();
    await waitText(page.locator('[data-testid=summary-balance]'), /^积分5/, 'balance after the refund');
  });

  await step('desk-member-page', page, async () => {
    // The member page: the same summary and actions on top; a redemption is confirmed with
    // its points and money value before it is sent.
    await page.locator('[data-testid=member-summary]').getByRole('link').click();
    await page.waitForURL(`${base}/members/${s.wang.id}`);
    await page.locator('[data-testid=quick-actions]').waitFor();
    await page.click('[data-testid=action-redeem]');
    await page.fill('#redeem-points_reward', '小礼品');
    await page.fill('#redeem-points_points', '5');
    await page.click('[data-testid=redeem-review]');
    await waitText(page.locator('[data-testid=redeem-preview]'), /5.*¥0\.05/, 'points and value shown first');
    await page.click('[data-testid=redeem-confirm]');
    await page.locator('.ant-modal-confirm-title', { hasText: '兑换成功' }).waitFor();
    await page.getByRole('dialog').getByRole('button').last().click();
    await waitText(page.locator('[data-testid=summary-balance]'), /^积分0/, 'balance after the redemption');
    await page.goto(`${base}/desk`);
  });

  await step('desk-member-code', page, async () => {
    const code = await api(base, 'GET', `/portal/${s.slug}/me/code`, { token: s.portal.token });
    await scan(page, code.code);
    await waitText(page.locator('[data-testid=summary-name]'), /会员码用户/, 'the portal member');
  });

  await step('desk-code-expired', page, async () => {
    let code = expiredCode(s.tenantId, s.portal.member.id);
    if (!code) {
      code = (await api(base, 'GET', `/portal/${s.slug}/me/code`, { token: s.portal.token })).code;
      await new Promise((r) => setTimeout(r, 72_000));
    }
    expect(/status of 422/);
    await page.locator('input[data-testid=desk-box]').fill('');
    await scan(page, code);
    await waitText(page.locator('[data-testid=desk-error]'), /过期/, 'expired code refused');
  });
  await desktop.close();

  // The owner, on the member page: erasing sits under "more" and needs the name typed.
  const ownerCtx = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN', reducedMotion: 'reduce' });
  await ownerCtx.addInitScript((token) => localStorage.setItem('patron.token', token), s.owner);
  const ownerPage = await ownerCtx.newPage();
  ownerPage.setDefaultTimeout(15_000);
  watch(ownerPage, 'desk-owner');
  await step('member-erase-guard', ownerPage, async () => {
    const page = ownerPage;
    await page.goto(`${base}/members/${s.wang.id}`);
    await page.locator('[data-testid=member-summary]').waitFor();
    // Erasing sits under "more" and needs the member's name typed.
    await page.click('[data-testid=member-more]');
    await page.getByRole('menuitem', { name: /抹除会员数据/ }).click();
    const ok = page.getByRole('dialog').getByRole('button', { name: /抹\s*除|Erase/ });
    if (await ok.isEnabled()) throw new Error('erase is possible without typing the name');
    await page.fill('[data-testid=erase-name]', '王');
    if (await ok.isEnabled()) throw new Error('erase is possible with a wrong name');
    await page.fill('[data-testid=erase-name]', '王一');
    if (!(await ok.isEnabled())) throw new Error('erase stays disabled with the right name');
    await page.getByRole('dialog').getByRole('button', { name: /取\s*消/ }).click();
  });
  await ownerCtx.close();

  const phone = await browser.newContext({
    viewport: { width: 375, height: 740 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale: 'zh-CN',
    reducedMotion: 'reduce',
  });
  await phone.addInitScript((token) => localStorage.setItem('patron.token', token), login.token);
  const small = await phone.newPage();
  small.setDefaultTimeout(15_000);
  watch(small, 'desk-375');
  await step('desk-phone', small, async () => {
    await small.goto(`${base}/desk`);
    await small.locator('input[data-testid=desk-box]').fill('6666');
    await small.locator('input[data-testid=desk-box]').press('Enter');
    await small.locator('[data-testid=desk-match]').nth(1).waitFor();
    await noHorizontalOverflow(small);
    await small.locator('[data-testid=desk-match]', { hasText: '王一' }).click();
    await waitText(small.locator('[data-testid=summary-balance]'), /^积分0/, 'balance on a phone');
    await small.locator('[data-testid=quick-actions]').waitFor();
    await noHorizontalOverflow(small);
  });
  await phone.close();
}

// Run on its own: a browser, the steps, screenshots in tests/e2e/artifacts/desk-*.png.
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
  let expected = [];
  let failed = false;
  const watch = (page, label) => {
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      const i = expected.findIndex((re) => re.test(msg.text()));
      if (i >= 0) expected.splice(i, 1);
      else errors.push(`[${label}] ${msg.text()}`);
    });
    page.on('pageerror', (err) => errors.push(`[${label}] page error: ${err.message}`));
  };
  const step = async (name, page, fn) => {
    try {
      await fn();
      await page.screenshot({ path: resolve(here, 'artifacts', `desk-${name}.png`), fullPage: true });
      if (errors.length) throw new Error(`browser console errors:\n  ${errors.join('\n  ')}`);
      console.log(`ok   ${name}`);
    } catch (err) {
      failed = true;
      await page.screenshot({ path: resolve(here, 'artifacts', `desk-${name}-FAILED.png`), fullPage: true }).catch(() => {});
      console.error(`FAIL ${name}: ${err instanceof Error ? err.stack : err}`);
      throw err;
    } finally {
      expected = [];
    }
  };
  try {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(resolve(here, 'artifacts'), { recursive: true });
    await deskSteps({ browser, step, base, watch, expect: (re) => expected.push(re) });
  } catch {
    failed = true;
  } finally {
    await browser.close();
  }
  process.exit(failed ? 1 : 0);
}
