// End-to-end steps for account defences, on a phone (375px, zh-CN): a business of its own
// is signed up through the API; its owner logs in, turns on two-factor sign-in (QR code,
// the secret, a code from a TOTP computed here as an authenticator app would), sees the ten
// recovery codes once, logs out, is asked for a code at the next login and logs in with a
// recovery code; the login history lists the attempts. The whole run is under the
// server's strict Content-Security-Policy: a refused script or style is a console error,
// which fails the step.
//
// Called by console.mjs (`securitySteps`).
import { createHmac } from 'node:crypto';
import { api } from './desk.mjs';

const PASSWORD = 'e2e-security-password-1';

function base32Decode(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of s.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** RFC 6238 (SHA-1, 6 digits, 30 s) for the step `offset` steps from now. */
function totp(secret, offset = 0) {
  const step = Math.floor(Date.now() / 1000 / 30) + offset;
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const h = createHmac('sha1', base32Decode(secret)).update(msg).digest();
  const o = h[h.length - 1] & 15;
  const n = (h.readUInt32BE(o) & 0x7fffffff) % 1_000_000;
  return String(n).padStart(6, '0');
}

async function noHorizontalOverflow(page) {
  const { scroll, width } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    width: window.innerWidth,
  }));
  if (scroll > width) throw new Error(`horizontal overflow: scrollWidth ${scroll} > ${width}`);
}

export async function securitySteps({ browser, step, base, watch, expect = () => {} }) {
  const stamp = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
  const owner = { slug: `sec-${stamp}`, email: `owner-${stamp}@security.example.com` };
  await api(base, 'POST', '/signup', {
    body: { business_name: `安全测试 ${stamp}`, slug: owner.slug, owner_name: '店长', email: owner.email, password: PASSWORD },
  });
  const ctx = await browser.newContext({
    viewport: { width: 375, height: 812 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale: 'zh-CN',
    reducedMotion: 'reduce',
  });
  const page = await ctx.newPage();
  page.setDefaultTimeout(15_000);
  watch(page, 'security');
  let recovery = [];
  let secret = '';
  try {
    const login = async (code) => {
      await page.goto(`${base}/login`);
      await page.fill('#login_tenant', owner.slug);
      await page.fill('#login_email', owner.email);
      await page.fill('#login_password', PASSWORD);
      if (code !== undefined) {
        expect(/status of 401/);
        await page.click('[data-testid=login-submit]');
        await page.locator('[data-testid=login-code]').waitFor();
        await page.fill('[data-testid=login-code]', code);
      }
      await page.click('[data-testid=login-submit]');
      await page.waitForURL((u) => !u.pathname.startsWith('/login'));
    };

    await step('security-two-factor-enrol', page, async () => {
      await login();
      await page.goto(`${base}/security`);
      await page.getByRole('heading', { name: '账号安全' }).waitFor();
      await page.click('[data-testid=totp-start]');
      await page.locator('[data-testid=totp-qr] svg').waitFor();
      secret = (await page.locator('[data-testid=totp-secret]').first().textContent())?.trim() ?? '';
      if (!/^[A-Z2-7]{32}$/.test(secret)) throw new Error(`secret: ${secret}`);
      await noHorizontalOverflow(page);
      await page.fill('#code', totp(secret));
      await page.click('[data-testid=totp-confirm]');
      await page.locator('[data-testid=recovery-code]').first().waitFor();
      recovery = await page.locator('[data-testid=recovery-code]').allTextContents();
      if (recovery.length !== 10) throw new Error(`recovery codes: ${recovery.length}`);
      await page.getByText('已开启').waitFor();
      await noHorizontalOverflow(page);
    });

    await step('security-login-with-recovery-code', page, async () => {
      await page.evaluate(() => localStorage.removeItem('patron.token'));
      await login(recovery[0]);
      await page.goto(`${base}/security`);
      await page.getByText('恢复码', { exact: true }).first().waitFor();
      await page.getByText('需要验证码').first().waitFor();
      await noHorizontalOverflow(page);
    });

    await step('security-new-recovery-codes', page, async () => {
      // The confirming code spent this time step: wait for the next one.
      await new Promise((r) => setTimeout(r, 30_000 - (Date.now() % 30_000) + 500));
      await page.fill('#renew_password', PASSWORD);
      await page.fill('#renew_code', totp(secret));
      await page.click('[data-testid=renew-codes]');
      await page.getByText('剩余 10 个恢复码').waitFor();
      const fresh = await page.locator('[data-testid=recovery-code]').allTextContents();
      if (fresh.length !== 10 || fresh.some((c) => recovery.includes(c))) throw new Error(`new recovery codes: ${fresh.join(' ')}`);
      await noHorizontalOverflow(page);
    });
  } finally {
    await ctx.close();
  }
}
