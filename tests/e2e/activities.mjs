// End-to-end steps for activities. A business of its own is set up through the API (Pro,
// two members registered in the portal); then its owner, in the browser (zh-CN, 1366x768):
// creates an activity with one seat and points for attending, and publishes it; one member
// signs up in the portal (the seat), the other joins the line; the owner sees both, types
// the first member's live check-in code (a second try says when and by whom), reads the
// statistics; the member rates the activity in the portal and the owner hides the rating;
// the owner uploads a cover picture and a photo (a small PNG made here, sent straight to the
// file store) and sees them shown, and the member who came adds a photo in the portal.
// Every page is checked for words of the other language in zh-CN and en, and the list, the
// form and the portal are used again at 375px (no sideways scrolling, the modals fit).
//
// Called by console.mjs (`activitySteps`); runs on its own too:
//   E2E_BASE_URL=http://127.0.0.1:8080 node tests/e2e/activities.mjs
import { createRequire } from 'node:module';
import { deflateSync } from 'node:zlib';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { api } from './desk.mjs';
import { assertNoLeaks } from './leaks.mjs';

const PASSWORD = 'e2e-activity-password-1';
const TITLE = '周末夜跑';
const PRICED = '瑜伽体验课';

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

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A `size` x `size` PNG of one colour, made here (no file in the repository). */
function pngOf(size, [r, g, b]) {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const head = Buffer.alloc(13);
  head.writeUInt32BE(size, 0);
  head.writeUInt32BE(size, 4);
  head[8] = 8; // bit depth
  head[9] = 2; // truecolour
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: size }, () => [r, g, b]).flat())]);
  const pixels = deflateSync(Buffer.concat(Array.from({ length: size }, () => row)));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', head),
    chunk('IDAT', pixels),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Waits until every image of `selector` (at least `count`) has loaded with a width. */
async function imagesShown(page, selector, count, what) {
  const until = Date.now() + 15_000;
  let widths = [];
  while (Date.now() < until) {
    widths = await page.$$eval(selector, (imgs) => imgs.map((i) => (i.complete ? i.naturalWidth : 0)));
    if (widths.length >= count && widths.every((w) => w > 0)) return;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${what}: expected ${count} loaded image(s) at ${selector}, got widths ${JSON.stringify(widths)}`);
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

/** `days` from now at 19:30 on the business's clock, as a `datetime-local` value. */
function localAt(zone, days, hour = '19:30') {
  const d = new Date(Date.now() + days * 86_400_000);
  const day = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
  return `${day}T${hour}`;
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
  const slug = `act-${stamp}`;
  const business = `活动测试 ${stamp}`;
  const signed = await api(base, 'POST', '/signup', {
    body: {
      business_name: business,
      slug,
      owner_name: '店长',
      email: `owner-${stamp}@activities.example.com`,
      password: PASSWORD,
      plan: 'pro',
    },
  });
  const owner = signed.session.token;
  const me = await api(base, 'GET', '/me', { token: owner });
  const tail = String(Date.now()).slice(-4);
  const first = await portalMember(base, slug, owner, '小美', `139${tail}1111`);
  const second = await portalMember(base, slug, owner, '小林', `139${tail}2222`);
  return { slug, business, owner, zone: me.tenant.time_zone, first, second };
}

/** The activity steps. `step(name, page, fn)` and `watch(page, label)` are the caller's. */
export async function activitySteps({ browser, step, base, watch, expect = () => {} }) {
  const s = await setUp(base);
  const allow = [s.business, s.slug, TITLE, PRICED, '店长', '小美', '小林', '滨江公园', '很好玩', 'AC'];
  const context = async (viewport, lang, label, member) => {
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
      { token: s.owner, lang, slug: s.slug, member },
    );
    const page = await ctx.newPage();
    page.setDefaultTimeout(15_000);
    watch(page, label);
    return { ctx, page };
  };

  const { ctx, page } = await context({ width: 1366, height: 768 }, 'zh-CN', 'activities', s.first.token);
  let activityId = '';

  await step('activities-create', page, async () => {
    await page.goto(`${base}/activities`);
    await page.locator('[data-testid=activities-page]').waitFor();
    await page.click('[data-testid=activity-new]');
    await page.fill('[data-testid=activity-title]', TITLE);
    await page.fill('[data-testid=activity-starts_at]', localAt(s.zone, 3));
    await page.fill('[data-testid=activity-ends_at]', localAt(s.zone, 3, '21:30'));
    await page.fill('[data-testid=activity-place]', '滨江公园');
    await fillNumber(page, 'activity-capacity', '1');
    await fillNumber(page, 'activity-attend-points', '20');
    await fillNumber(page, 'activity-budget', '300');
    await assertNoLeaks(page, { lang: 'zh-CN', where: 'activity form', allow });
    await page.click('[data-testid=activity-submit]');
    await page.locator('[data-testid=activity-page]').waitFor();
    activityId = page.url().split('/activities/')[1].split(/[?#]/)[0];
    await waitText(page.locator('[data-testid=activity-title-heading]'), new RegExp(TITLE), 'the activity page');
    await page.click('[data-testid=activity-to-published]');
    await page.locator('[data-testid=status-published]').first().waitFor();
    await waitText(page.locator('.ant-descriptions'), /19:30/, 'the start on the business clock');
    await assertNoLeaks(page, { lang: 'zh-CN', where: 'activity page', allow });
  });

  await step('activities-portal-sign-up', page, async () => {
    await page.goto(`${base}/m/${s.slug}/activities`);
    await page.click(`[data-testid="portal-sign-up-${TITLE}"]`);
    await page.locator('[data-testid=portal-mine-status-confirmed]').waitFor();
    await assertNoLeaks(page, { lang: 'zh-CN', where: 'portal activities', allow });
    await page.click('[data-testid=portal-show-code]');
    await waitText(page.locator('[data-testid=portal-activity-code-text]'), /^AC[0-9A-Z]{16}/, 'the check-in code');
    await page.locator('[data-testid=portal-activity-code] svg[role=img]').waitFor();
    await page.keyboard.press('Escape');
    // The second member finds the seat taken and joins the line.
    await api(base, 'POST', `/portal/${s.slug}/activities/${activityId}/sign-up`, { token: s.second.token, body: {} });
  });

  await step('activities-registrations', page, async () => {
    await page.goto(`${base}/activities/${activityId}`);
    const table = page.locator('[data-testid=activity-registrations] .ant-table-tbody');
    await waitText(table, /小美.*已确认/, 'the seat holder');
    await waitText(table, /小林.*候补中.*候补第 1 位/, 'the first in line');
    await waitText(page.locator('[data-testid=activity-seats]'), /1 \/ 1/, 'the seats taken');
    await assertNoLeaks(page, { lang: 'zh-CN', where: 'sign-ups', allow });
  });

  await step('activities-check-in', page, async () => {
    const mine = await api(base, 'GET', `/portal/${s.slug}/me/activities`, { token: s.first.token });
    const code = await api(base, 'GET', `/portal/${s.slug}/me/activities/${mine[0].id}/code`, { token: s.first.token });
    await page.click('[data-testid=activity-tab-check-in]');
    await page.locator('input[data-testid=check-in-code], [data-testid=check-in-code] input').first().fill(code.code);
    await page.keyboard.press('Enter');
    await waitText(page.locator('[data-testid=check-in-ok]'), /小美.*20/, 'checked in with the points');
    // The second scan is refused (409): the browser logs the refused request.
    expect(/status of 409/);
    const again = await api(base, 'GET', `/portal/${s.slug}/me/activities/${mine[0].id}/code`, { token: s.first.token });
    await page.locator('input[data-testid=check-in-code], [data-testid=check-in-code] input').first().fill(again.code);
    await page.keyboard.press('Enter');
    await waitText(page.locator('[data-testid=check-in-error]'), /已于 .* 由 店长 签到/, 'a second scan says when and by whom');
    await assertNoLeaks(page, { lang: 'zh-CN', where: 'check-in', allow });
    // Scanning by camera: this browser has none, so the window says so in words and points
    // to the typed code; closing it leaves the typed code in place.
    await page.click('[data-testid=activity-scan]');
    await page.locator('[data-testid=activity-scan-modal]').waitFor();
    await page.locator('[data-testid=activity-scan-unavailable]').waitFor();
    await assertNoLeaks(page, { lang: 'zh-CN', where: 'scan window', allow });
    await page.keyboard.press('Escape');
    await page.locator('[data-testid=activity-scan-modal]').waitFor({ state: 'hidden' });
    await page.click('[data-testid=activity-tab-statistics]');
    await waitText(page.locator('[data-testid=stat-attended]'), /1/, 'attended');
    await waitText(page.locator('[data-testid=stat-attendance_rate]'), /100%/, 'attendance rate');
    await waitText(page.locator('[data-testid=stat-cost_per_attendee]'), /¥300\.00/, 'cost per attendee');
    await assertNoLeaks(page, { lang: 'zh-CN', where: 'statistics', allow });
  });

  await step('activities-rating', page, async () => {
    await page.goto(`${base}/m/${s.slug}/activities`);
    await page.click('[data-testid=portal-rate]');
    await page.fill('[data-testid=portal-rate-comment]', '很好玩');
    await page.click('[data-testid=portal-rate-submit]');
    await page.locator('[data-testid=portal-my-activities] .ant-rate').waitFor();
    await page.goto(`${base}/activities/${activityId}?tab=ratings`);
    await waitText(page.locator('[data-testid=activity-ratings] .ant-table-tbody'), /小美.*很好玩/, 'the rating listed');
    await page.click('[data-testid="rating-hidden-小美"]');
    await page.locator('[data-testid="rating-hidden-小美"].ant-switch-checked').waitFor();
    await assertNoLeaks(page, { lang: 'zh-CN', where: 'ratings', allow });
  });

  await step('activities-pictures', page, async () => {
    await page.goto(`${base}/activities/${activityId}`);
    await page.click('[data-testid=activity-edit]');
    await page
      .locator('[data-testid=activity-cover-upload] input[type=file]')
      .setInputFiles({ name: 'cover.png', mimeType: 'image/png', buffer: pngOf(32, [220, 60, 40]) });
    await imagesShown(page, '[data-testid=activity-cover-preview] img, img[data-testid=activity-cover-preview]', 1, 'the cover preview');
    await assertNoLeaks(page, { lang: 'zh-CN', where: 'activity form with a cover', allow });
    await page.click('[data-testid=activity-submit]');
    await page.locator('.ant-modal-content').waitFor({ state: 'detached' });
    const saved = await api(base, 'GET', `/activities/${activityId}`, { token: s.owner });
    if (!saved.cover_upload_id || !saved.cover_picture_url) throw new Error(`no cover saved: ${JSON.stringify(saved)}`);
    await page.click('[data-testid=activity-tab-photos]');
    await page
      .locator('[data-testid=activity-photo-upload] input[type=file]')
      .setInputFiles({ name: 'run.png', mimeType: 'image/png', buffer: pngOf(48, [40, 120, 220]) });
    await imagesShown(page, '[data-testid=activity-photo] img', 1, 'the photo on the wall');
    await assertNoLeaks(page, { lang: 'zh-CN', where: 'photo wall', allow });
    // The member who came adds hers in the portal.
    await page.goto(`${base}/m/${s.slug}/activities`);
    await page.click('[data-testid=portal-photos]');
    await page
      .locator('[data-testid=portal-photo-input]')
      .setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: pngOf(40, [60, 200, 90]) });
    await imagesShown(page, '[data-testid=portal-photo] img', 2, 'the portal photo wall');
    await page.locator('[data-testid=portal-photo-delete]').first().waitFor();
    await assertNoLeaks(page, { lang: 'zh-CN', where: 'portal photos', allow });
  });

  await step('activities-calendar-and-guests', page, async () => {
    await page.goto(`${base}/activities?view=calendar`);
    await page.locator('[data-testid=activities-calendar], .ant-picker-calendar').first().waitFor();
    // The activity starts in three days: on this month's grid unless the month turns.
    if (localAt(s.zone, 3).slice(0, 7) === localAt(s.zone, 0).slice(0, 7)) {
      await waitText(page.locator(`[data-testid="calendar-activity-${TITLE}"]`).first(), /19:30/, 'the activity on the calendar');
    }
    await assertNoLeaks(page, { lang: 'zh-CN', where: 'activities calendar', allow });
    // Its only seat is taken: a guest is refused, with the reason.
    await page.goto(`${base}/activities/${activityId}?tab=guests`);
    await page.fill('[data-testid=guest-name]', '嘉宾甲');
    await page.fill('[data-testid=guest-phone]', '13800001234');
    expect(/status of 409/);
    await page.click('[data-testid=guest-add]');
    await waitText(page.locator('.ant-tabs-tabpane-active .ant-typography-danger'), /名额已满/, 'a full activity refuses a guest');
    await assertNoLeaks(page, { lang: 'zh-CN', where: 'activity guests', allow: [...allow, '嘉宾甲'] });
  });

  await step('activities-priced-in-stored-value', page, async () => {
    // Priced in stored value: the form takes ¥30, the page and the portal say 「¥30.00 储值」,
    // and a member without a balance is told so in words, not signed up.
    await page.goto(`${base}/activities`);
    await page.locator('[data-testid=activities-page]').waitFor();
    await page.click('[data-testid=activity-new]');
    await page.fill('[data-testid=activity-title]', PRICED);
    await page.fill('[data-testid=activity-starts_at]', localAt(s.zone, 5));
    await page.fill('[data-testid=activity-ends_at]', localAt(s.zone, 5, '21:00'));
    await page.locator('[data-testid=activity-price-kind]').click();
    await page.locator('.ant-select-item-option', { hasText: '储值（¥）' }).click();
    await fillNumber(page, 'activity-price-fen', '30');
    await assertNoLeaks(page, { lang: 'zh-CN', where: 'priced activity form', allow });
    await page.click('[data-testid=activity-submit]');
    await page.locator('[data-testid=activity-page]').waitFor();
    await waitText(page.locator('[data-testid=activity-price-text]'), /¥30\.00 储值/, 'the price on the activity page');
    await page.click('[data-testid=activity-to-published]');
    await page.locator('[data-testid=status-published]').first().waitFor();
    await page.goto(`${base}/m/${s.slug}/activities`);
    await waitText(page.locator('body'), /¥30\.00 储值/, 'the price in the portal');
    expect(/status of 409/);
    await page.click(`[data-testid="portal-sign-up-${PRICED}"]`);
    await waitText(page.locator('.ant-message'), /储值余额不足/, 'the refusal in words');
    await assertNoLeaks(page, { lang: 'zh-CN', where: 'portal priced activity', allow });
  });
  await ctx.close();

  const en = await context({ width: 1366, height: 768 }, 'en', 'activities-en', s.second.token);
  await step('activities-english', en.page, async () => {
    const p = en.page;
    await p.goto(`${base}/activities`);
    await waitText(p.locator('.ant-table-tbody'), new RegExp(`${TITLE}.*1 / 1.*Published`), 'the list in English');
    await assertNoLeaks(p, { lang: 'en', where: 'activities', allow });
    await p.goto(`${base}/activities/${activityId}`);
    await waitText(p.locator('[data-testid=activity-registrations] .ant-table-tbody'), /Waitlisted.*No\. 1 in line/, 'sign-ups in English');
    await assertNoLeaks(p, { lang: 'en', where: 'activity page', allow });
    for (const tab of ['guests', 'check-in', 'statistics', 'ratings', 'photos']) {
      await p.click(`[data-testid=activity-tab-${tab}]`);
      await p.locator('.ant-spin-spinning').waitFor({ state: 'detached' });
      await assertNoLeaks(p, { lang: 'en', where: `activity ${tab}`, allow });
    }
    await p.goto(`${base}/m/${s.slug}/activities`);
    await p.locator('[data-testid=portal-mine-status-waitlisted]').waitFor();
    await assertNoLeaks(p, { lang: 'en', where: 'portal activities', allow });
  });
  await en.ctx.close();

  const phone = await context({ width: 375, height: 740 }, 'zh-CN', 'activities-375', s.first.token);
  await step('activities-phone', phone.page, async () => {
    const p = phone.page;
    await p.goto(`${base}/activities`);
    await waitText(p.locator('.ant-table-tbody'), new RegExp(TITLE), 'the list on a phone');
    await noHorizontalOverflow(p);
    await p.click('[data-testid=activity-new]');
    await modalFits(p);
    await p.keyboard.press('Escape');
    await p.goto(`${base}/activities/${activityId}`);
    await p.locator('[data-testid=activity-registrations]').waitFor();
    await noHorizontalOverflow(p);
    await p.click('[data-testid=activity-tab-photos]');
    await imagesShown(p, '[data-testid=activity-photo] img', 2, 'the photos on a phone');
    await noHorizontalOverflow(p);
    await p.goto(`${base}/m/${s.slug}/activities`);
    await p.locator('[data-testid=portal-my-activities]').waitFor();
    await noHorizontalOverflow(p);
    await p.click('[data-testid=portal-photos]');
    await imagesShown(p, '[data-testid=portal-photo] img', 2, 'the portal photos on a phone');
    await modalFits(p);
    await noHorizontalOverflow(p);
  });
  await phone.ctx.close();
}

// Run on its own: a browser, the steps, screenshots in tests/e2e/artifacts/activities-*.png.
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
  const expected = [];
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
      await page.screenshot({ path: resolve(here, 'artifacts', `${name}.png`), fullPage: true });
      if (errors.length) throw new Error(`browser console errors:\n  ${errors.join('\n  ')}`);
      console.log(`ok   ${name}`);
    } catch (err) {
      failed = true;
      await page.screenshot({ path: resolve(here, 'artifacts', `${name}-FAILED.png`), fullPage: true }).catch(() => {});
      console.error(`FAIL ${name}: ${err instanceof Error ? err.stack : err}`);
      if (errors.length) console.error(`browser console errors:\n  ${errors.join('\n  ')}`);
      throw err;
    }
  };
  try {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(resolve(here, 'artifacts'), { recursive: true });
    await activitySteps({ browser, step, base, watch, expect: (re) => expected.push(re) });
  } catch {
    failed = true;
  } finally {
    await browser.close();
  }
  process.exit(failed ? 1 : 0);
}
