// End-to-end steps for a member portal members can find and trust, called by console.mjs.
// A business of its own (signed up through the API) has a required staff-only field (会籍到期),
// a required single select and privacy terms. On the 会员门户 page at 1366x768 the owner sees
// the portal's link and QR code and saves the page settings (the terms get version 1); the
// staff-only field is in the console's registration form. On a 375 px phone the portal's
// registration form lacks the staff-only field, refuses the select left empty and the missing
// consent, and registers once both are given; the consent is read back with its version from
// the API. The home card shows the business's address and hours, no check-in (the plan has
// no events) and the phone as 139 xxxx xxxx. The member logs out and back in with a texted code.

/** A JSON call to the API; throws unless the status is `want`. */
async function apiCall(base, method, path, { token, body, want = 200 } = {}) {
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== want) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

/** The newest code texted to `phone` for `purpose`, read from the outbox as staff. */
async function textedCode(base, token, phone, purpose) {
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    const texts = await apiCall(base, 'GET', `/sms-outbox?phone=${encodeURIComponent(phone)}`, { token });
    const text = texts.filter((m) => m.purpose === purpose).sort((a, b) => b.id - a.id)[0];
    const code = text && /(\d{6})/.exec(text.body.replace(/^(【[^】]*】|\[[^\]]*\])/, ''))?.[1];
    if (code) return code;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no ${purpose} code texted to ${phone}`);
}

// A small logo, inlined: the portal needs no file server for it.
const LOGO =
  'data:image/svg+xml;base64,' +
  Buffer.from(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="12" fill="#1677ff"/><text x="32" y="44" font-size="32" text-anchor="middle" fill="#fff" font-family="sans-serif">铁</text></svg>',
  ).toString('base64');

export async function portalSteps({ browser, step, base, watch, expect, noHorizontalOverflow, artifacts }) {
  const stamp = Date.now().toString(36);
  const biz = { name: `铁人健身 ${stamp}`, slug: `e2e-portal-${stamp}` };
  const signup = await apiCall(base, 'POST', '/signup', {
    want: 201,
    body: {
      business_name: biz.name,
      slug: biz.slug,
      owner_name: '周老板',
      email: `owner-${stamp}@portal.example.com`,
      password: 'e2e-portal-owner-pw',
    },
  });
  const token = signup.session.token;
  await apiCall(base, 'POST', '/fields/versions', {
    token,
    want: 201,
    body: {
      fields: [
        { key: 'expires', type: 'date', label: { 'zh-CN': '会籍到期', en: 'Membership expires' }, required: true, member_visible: false },
        {
          key: 'goal',
          type: 'single_select',
          label: { 'zh-CN': '健身目标', en: 'Goal' },
          required: true,
          options: [
            { value: 'fit', label: { 'zh-CN': '塑形', en: 'Tone' } },
            { value: 'lose', label: { 'zh-CN': '减脂', en: 'Lose weight' } },
          ],
        },
        { key: 'shoe', type: 'integer', label: { 'zh-CN': '鞋码', en: 'Shoe size' }, member_editable: true },
      ],
    },
  });
  const TERMS = '铁人健身隐私条款\n我们收集您的姓名和手机号，仅用于会员服务与积分记录。\n您可以随时在前台申请查阅或删除您的个人信息。';

  // The owner's console at 1366x768, logged in with the session signup gave.
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN', reducedMotion: 'reduce' });
  await ctx.addInitScript((tk) => {
    if (!localStorage.getItem('patron.token')) localStorage.setItem('patron.token', tk);
  }, token);
  const page = await ctx.newPage();
  page.setDefaultTimeout(15_000);
  watch(page, 'portal-site');
  const PORTAL = `${base}/m/${biz.slug}`;

  await step('portal-site-page', page, async () => {
    await page.goto(`${base}/portal-site`);
    await page.getByRole('menuitem', { name: '会员门户' }).waitFor();
    await page.locator('[data-testid=portal-site-url]').getByText(PORTAL).waitFor();
    await page.locator('[data-testid=portal-site-qr]').waitFor();
    await page.fill('#portal-site_logo_url', LOGO);
    await page.fill('#portal-site_address', '上海市静安区南京西路 1266 号 3 楼');
    await page.fill('#portal-site_opening_hours', '周一至周五 07:00–22:00\n周末 09:00–20:00');
    await page.fill('#portal-site_privacy_text', TERMS);
    await page.click('[data-testid=portal-site-save]');
    await page.getByText('已保存，隐私条款更新为第 1 版').waitFor();
    await page.locator('[data-testid=portal-site-terms-version]').getByText('第 1 版').waitFor();
    const s = await apiCall(base, 'GET', '/portal-settings', { token });
    if (s.privacy_version !== 1 || s.privacy_text !== TERMS) throw new Error(`settings not saved: ${JSON.stringify(s)}`);
    await noHorizontalOverflow(page);
  });

  await step('portal-site-printed', page, async () => {
    // The print dialog is the browser's; here the page is printed to PDF with the same
    // print stylesheet: the poster on one A4 page, the table tent on one A4 landscape page.
    await page.evaluate(() => {
      window.__printed = 0;
      window.print = () => {
        window.__printed += 1;
      };
    });
    const printed = async (sheet, n, [w, h]) => {
      await page.click(`[data-testid=portal-site-print-${sheet}]`);
      await page.locator(`[data-testid=portal-print-${sheet}]`).waitFor({ state: 'attached' });
      await page.waitForFunction((want) => window.__printed === want, n);
      const pdf = await page.pdf({ preferCSSPageSize: true, printBackground: true, path: `${artifacts}/portal-${sheet}.pdf` });
      const text = pdf.toString('latin1');
      const pages = (text.match(/\/Type\s*\/Page[^s]/g) ?? []).length;
      const box = /\/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]/.exec(text);
      const fits = box !== null && Math.abs(Number(box[1]) - w) < 1 && Math.abs(Number(box[2]) - h) < 1;
      if (pages !== 1 || !fits) throw new Error(`the ${sheet} prints on ${pages} page(s) of ${box?.slice(1)}`);
      await page.evaluate(() => window.dispatchEvent(new Event('afterprint')));
      await page.locator(`[data-testid=portal-print-${sheet}]`).waitFor({ state: 'detached' });
    };
    // A4 in points.
    await printed('poster', 1, [595, 842]);
    await printed('tent', 2, [842, 595]);
  });

  await step('portal-site-staff-field-in-console', page, async () => {
    // Staff fill the staff-only field at the counter.
    await page.goto(`${base}/members/new`);
    await page.locator('#custom_expires').waitFor();
    await page.locator('#custom_goal').waitFor();
  });
  await ctx.close();

  // The member on a 375 px phone.
  const phoneCtx = await browser.newContext({
    viewport: { width: 375, height: 740 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale: 'zh-CN',
    reducedMotion: 'reduce',
  });
  const portal = await phoneCtx.newPage();
  portal.setDefaultTimeout(15_000);
  watch(portal, 'portal-member');
  const phone = `139${String(Date.now()).slice(-8)}`;
  const grouped = `${phone.slice(0, 3)} ${phone.slice(3, 7)} ${phone.slice(7)}`;

  await step('portal-register-form', portal, async () => {
    await portal.goto(`${PORTAL}/register`);
    await portal.locator('#custom_goal').waitFor();
    if ((await portal.locator('#custom_expires').count()) !== 0) throw new Error('the staff-only field is in the portal');
    if ((await portal.getByText('会籍到期').count()) !== 0) throw new Error('the staff-only label is in the portal');
    // The required select starts empty.
    const chosen = await portal.locator('.ant-select', { has: portal.locator('#custom_goal') }).locator('.ant-select-selection-item').count();
    if (chosen !== 0) throw new Error('the required select starts on an option');
    await portal.fill('#portal-register_name', '陈会员');
    await portal.fill('#portal-register_phone', phone);
    await portal.click('[data-testid=portal-send-code]');
    await portal.getByText('验证码已通过短信发送').first().waitFor();
    await portal.fill('#portal-register_code', await textedCode(base, token, phone, 'register'));
    await noHorizontalOverflow(portal);
  });

  await step('portal-register-refused', portal, async () => {
    // Neither the goal nor the consent: both are named, nothing is sent.
    await portal.click('[data-testid=portal-register-submit]');
    await portal.locator('[data-testid=portal-consent-error]').waitFor();
    await portal.locator('.form-group, .ant-form-item', { has: portal.locator('#custom_goal') }).locator('.ant-form-item-explain-error, .error-detail').first().waitFor();
    if (portal.url() !== `${PORTAL}/register`) throw new Error('registered without a goal or consent');
  });

  await step('portal-register-terms', portal, async () => {
    await portal.click('[data-testid=portal-terms-open]');
    await portal.locator('[data-testid=portal-terms]').getByText('仅用于会员服务与积分记录').waitFor();
    await portal.getByText('隐私条款（第 1 版）').waitFor();
  });

  await step('portal-registered', portal, async () => {
    await portal.click('[data-testid=portal-terms-agree]');
    await portal.locator('[data-testid=portal-terms]').waitFor({ state: 'hidden' });
    await portal.locator('.ant-select', { has: portal.locator('#custom_goal') }).click();
    await portal.locator('.ant-select-item-option', { hasText: '减脂' }).click();
    // The dynamic member code comes from another part of the server; until it is there the
    // card number stands in (the browser logs the 404).
    expect(/status of 404/);
    await portal.click('[data-testid=portal-register-submit]');
    await portal.waitForURL(PORTAL);
    await portal.locator('[data-testid=portal-qr]').waitFor();
    // The consent, stored with its version.
    const found = await apiCall(base, 'POST', '/members/search', { token, body: { phone } });
    const id = found.items[0]?.id;
    if (!id) throw new Error('the member is not in the register');
    const log = await apiCall(base, 'GET', `/members/${id}/audit`, { token });
    const consent = log.find((e) => e.action === 'member.consent');
    if (!consent || consent.after !== 1 || consent.channel !== 'portal') {
      throw new Error(`no consent to version 1: ${JSON.stringify(log)}`);
    }
    const m = await apiCall(base, 'GET', `/members/${id}`, { token });
    if (m.custom.goal !== 'lose' || 'expires' in m.custom) throw new Error(`custom values: ${JSON.stringify(m.custom)}`);
  });

  await step('portal-home-card', portal, async () => {
    await portal.locator('[data-testid=portal-address]').getByText('南京西路 1266 号').waitFor();
    await portal.locator('[data-testid=portal-hours]').getByText('周末 09:00–20:00').waitFor();
    await portal.locator('[data-testid=portal-logo]').waitFor();
    await portal.locator('[data-testid=portal-phone]').getByText(grouped, { exact: true }).waitFor();
    await portal.locator('[data-testid=portal-code-card] [data-testid=portal-barcode] rect').first().waitFor();
    // The business's plan has no events: no check-in to tap.
    await portal.locator('[data-testid=portal-balance]').waitFor();
    if ((await portal.locator('[data-testid=portal-check-in]').count()) !== 0) throw new Error('check-in shown without check-ins');
    await noHorizontalOverflow(portal);
  });

  await step('portal-sms-login', portal, async () => {
    await portal.click('[data-testid=portal-logout]');
    await portal.waitForURL(`${PORTAL}/login`);
    await portal.locator('[data-testid=portal-login-tab-code]').waitFor();
    await portal.fill('#portal-login-code_phone', grouped);
    // One code a minute per number: the registration's code was sent moments ago.
    await portal.waitForTimeout(61_000);
    await portal.click('[data-testid=portal-send-code]');
    await portal.getByText('验证码已通过短信发送').first().waitFor();
    await portal.fill('#portal-login-code_code', await textedCode(base, token, phone, 'login'));
    await noHorizontalOverflow(portal);
    expect(/status of 404/);
    await portal.click('[data-testid=portal-login-code-submit]');
    await portal.waitForURL(PORTAL);
    await portal.getByText('您好，陈会员').waitFor();
    await portal.locator('[data-testid=portal-qr]').waitFor();
  });

  await step('portal-profile-visible-fields', portal, async () => {
    await portal.getByRole('link', { name: '资料' }).click();
    await portal.waitForURL(`${PORTAL}/profile`);
    await portal.locator('[data-testid=portal-profile-phone]').getByText(grouped, { exact: true }).waitFor();
    // Visible but not editable: shown, read-only. Editable: an input.
    await portal.locator('[data-testid=portal-profile-readonly] #readonly_goal').waitFor();
    await portal.locator('#custom_shoe').waitFor();
    if ((await portal.locator('#custom_expires, #readonly_expires').count()) !== 0) throw new Error('staff-only field in the profile');
    await noHorizontalOverflow(portal);
  });
  await phoneCtx.close();
}
