// First-load transfer sizes: a browser with an empty cache opens the console's login page and
// a business's member portal; every response's bytes on the wire (headers and the body as
// sent, compressed when the server compressed it) are added up until the network is idle.
// The results go to artifacts/first-load.json; over budget fails the run.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** Budgets for the first load, in bytes transferred. */
// The portal grew by its coupons, mall and activities tabs (their pages load lazily; the tabs
// and their API calls are in the first load): 302 kB measured on 2026-12-04.
export const BUDGETS = { console: 1024 * 1024, portal: 320 * 1000 };

async function transferred(browser, url) {
  const ctx = await browser.newContext({ viewport: { width: 375, height: 740 } });
  const page = await ctx.newPage();
  const sizes = [];
  page.on('requestfinished', (req) => {
    sizes.push(
      req.sizes().then((s) => ({ url: req.url(), bytes: s.responseBodySize + s.responseHeadersSize })),
    );
  });
  await page.goto(url, { waitUntil: 'networkidle' });
  const all = await Promise.all(sizes);
  await ctx.close();
  return { url, bytes: all.reduce((n, s) => n + s.bytes, 0), requests: all.length, files: all };
}

/** Measures both first loads and checks them against [`BUDGETS`]. */
export async function firstLoadStep({ browser, step, page, base, slug, artifacts }) {
  await step('first-load', page, async () => {
    const consoleLoad = await transferred(browser, `${base}/login`);
    const portalLoad = await transferred(browser, `${base}/m/${slug}`);
    const report = {
      measured_at: new Date().toISOString(),
      console: { bytes: consoleLoad.bytes, requests: consoleLoad.requests, budget: BUDGETS.console },
      portal: { bytes: portalLoad.bytes, requests: portalLoad.requests, budget: BUDGETS.portal },
      files: { console: consoleLoad.files, portal: portalLoad.files },
    };
    writeFileSync(resolve(artifacts, 'first-load.json'), JSON.stringify(report, null, 2));
    console.log(
      `first load: console ${(consoleLoad.bytes / 1024).toFixed(0)} KiB in ${consoleLoad.requests} requests, ` +
        `portal ${(portalLoad.bytes / 1024).toFixed(0)} KiB in ${portalLoad.requests} requests`,
    );
    if (consoleLoad.bytes > BUDGETS.console) throw new Error(`the console's first load is ${consoleLoad.bytes} bytes`);
    if (portalLoad.bytes > BUDGETS.portal) throw new Error(`the portal's first load is ${portalLoad.bytes} bytes`);
  });
}
