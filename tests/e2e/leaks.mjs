// The language leak check of the browser tests: after a page is shown in one language, the
// text a person sees (document.body.innerText, without what sits in inputs and code editors)
// must hold no words of the other. A zh-CN page may show no Latin words except an allow-list
// (the brand, units, codes shown on purpose) and what the test itself typed or the business
// owns (its names, ids, e-mails); an en page may show no Chinese except the same. Numbers,
// e-mail addresses, links and ids never count.
//
//   import { assertNoLeaks } from './leaks.mjs';
//   await assertNoLeaks(page, { lang: 'zh-CN', where: 'settings', allow: [business.name] });

/** Latin words a zh-CN page may show: names of things that are not translated. */
export const LATIN_ALLOWED = [
  'Patron',
  'API',
  'ID',
  'CSV',
  'Excel',
  'XLSX',
  'xlsx',
  'csv',
  'Rhai',
  'Webhook',
  'Webhooks',
  'SMS',
  'SKU',
  // The field designer previews the form in either language: it names them in themselves.
  'EN',
  'MB',
  'KiB',
  'UTC',
  'QR',
  'JSON',
  'VIP',
  // The language switch names each language in itself.
  'English',
  // Currency codes shown deliberately, and symbols written with letters.
  'CNY',
  'HKD',
  'MOP',
  'TWD',
  'USD',
  'EUR',
  'JPY',
  'SGD',
  'HK',
  'MOP$',
  'NT',
  'RM',
  'Rp',
  'CHF',
];

/** Chinese an en page may show: the language switch names Chinese in Chinese. */
export const CJK_ALLOWED = ['简体中文', '中文'];

const CJK = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff01-\uff60]/;

/** What a person sees on the page, without input values and code. */
export async function visibleText(page) {
  return page.evaluate(() => {
    // Code editors, code samples and text areas are hidden for the reading (innerText skips
    // what is not visible; input values are never part of it), then shown again.
    const hidden = [...document.querySelectorAll('.cm-editor, pre, code, kbd, textarea, [data-leak-ignore]')];
    const before = hidden.map((el) => el.style.visibility);
    for (const el of hidden) el.style.visibility = 'hidden';
    const text = document.body.innerText;
    hidden.forEach((el, i) => {
      el.style.visibility = before[i];
    });
    return text;
  });
}

function escape(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The words of `text` that do not belong on a `lang` page, given what may show anyway
 * (`allow`: strings the test typed and the business's own data).
 */
export function findLeaks(text, lang, allow = []) {
  let rest = ` ${text} `;
  // The longest first, so that a name containing another is taken whole.
  for (const a of [...allow].filter(Boolean).sort((x, y) => y.length - x.length)) {
    rest = rest.replace(new RegExp(escape(a), 'gi'), ' ');
  }
  rest = rest
    // e-mail addresses, links, paths
    .replace(/\S+@\S+/g, ' ')
    .replace(/\bhttps?:\/\/\S+/g, ' ')
    .replace(/(^|\s)\/\S*/g, ' ')
    // ids and anything with a digit in it (card numbers, versions, v2, 12:30, 1366px)
    .replace(/[A-Za-z0-9_:-]*\d[A-Za-z0-9_.:-]*/g, ' ')
    // coupon codes given to members (ABCD-EFGH-JKMN: groups of capitals, about 1 in 90
    // without a digit)
    .replace(/\b[A-Z]{4}(?:-[A-Z]{4}){2,}\b/g, ' ')
    // machine names: snake_case, kebab-case ids, permission names (members:read)
    .replace(/[A-Za-z]+(?:[_:][A-Za-z]+)+/g, ' ');
  if (lang === 'en') {
    for (const a of CJK_ALLOWED) rest = rest.split(a).join(' ');
    const words = rest.split(/\s+/).filter((w) => CJK.test(w));
    return [...new Set(words)];
  }
  const allowed = new Set(LATIN_ALLOWED.map((w) => w.toLowerCase()));
  const words = [...rest.matchAll(/[A-Za-z][A-Za-z'’]*[A-Za-z]/g)].map((m) => m[0]);
  return [...new Set(words.filter((w) => !allowed.has(w.toLowerCase())))];
}

/** Fails when the page shows words of the other language; names the page and the words. */
export async function assertNoLeaks(page, { lang, where, allow = [] }) {
  const text = await visibleText(page);
  const leaks = findLeaks(text, lang, allow);
  if (leaks.length) {
    throw new Error(`${lang} page ${where} (${page.url()}) shows ${lang === 'en' ? 'Chinese' : 'untranslated'} text: ${leaks.map((w) => JSON.stringify(w)).join(', ')}`);
  }
}
