/** A timestamp in the tenant's time zone, in the console's language. */
export function formatDateTime(
  iso: string | null | undefined,
  lang: string,
  timeZone?: string,
): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  try {
    return new Intl.DateTimeFormat(lang, {
      dateStyle: 'medium',
      timeStyle: 'short',
      timeZone,
    }).format(d);
  } catch {
    return d.toISOString();
  }
}

type Translate = (key: string, options?: Record<string, unknown>) => string;

function isChinese(lang: string): boolean {
  return lang.toLowerCase().startsWith('zh');
}

/**
 * A percent discount as a shop says it: in Chinese by what is paid (5 % off -> 95折,
 * 10 % -> 9折, 12 % -> 88折), elsewhere as "5% off"; no discount says so.
 */
export function discountText(t: Translate, lang: string, percent: number): string {
  if (!(percent > 0)) return t('lang.discount.none');
  if (isChinese(lang)) {
    const paid = Math.round((100 - percent) * 100) / 100;
    const rate = paid % 10 === 0 ? String(paid / 10) : String(paid);
    return t('lang.discount.rate', { rate });
  }
  return t('lang.discount.off', { percent });
}

/** The time zones a shop picks from, Asia-Pacific first; their names are in the locales. */
export const ZONES = [
  'Asia/Shanghai',
  'Asia/Hong_Kong',
  'Asia/Macau',
  'Asia/Taipei',
  'Asia/Urumqi',
  'Asia/Tokyo',
  'Asia/Seoul',
  'Asia/Singapore',
  'Asia/Kuala_Lumpur',
  'Asia/Manila',
  'Asia/Bangkok',
  'Asia/Ho_Chi_Minh',
  'Asia/Jakarta',
  'Asia/Kolkata',
  'Asia/Dubai',
  'Australia/Perth',
  'Australia/Sydney',
  'Australia/Melbourne',
  'Pacific/Auckland',
  'Pacific/Honolulu',
  'Europe/London',
  'Europe/Paris',
  'Europe/Berlin',
  'Europe/Moscow',
  'America/New_York',
  'America/Toronto',
  'America/Chicago',
  'America/Denver',
  'America/Los_Angeles',
  'America/Vancouver',
  'America/Sao_Paulo',
  'UTC',
] as const;

/** The translation key of a zone's name: `Asia/Shanghai` -> `lang.zones.Asia_Shanghai`. */
function zoneKey(zone: string): string {
  return `lang.zones.${zone.replace(/\//g, '_')}`;
}

/** A zone's offset from UTC now, as `UTC+8`, `UTC-5`, `UTC+5:30` (`UTC` for none). */
export function utcOffset(zone: string, at: Date = new Date()): string {
  try {
    const part = new Intl.DateTimeFormat('en', { timeZone: zone, timeZoneName: 'shortOffset' })
      .formatToParts(at)
      .find((p) => p.type === 'timeZoneName')?.value;
    if (!part) return '';
    return part.replace(/^GMT/, 'UTC');
  } catch {
    return '';
  }
}

/** A zone as a person reads it: 中国标准时间 (UTC+8); an unknown zone keeps its id. */
export function zoneName(t: Translate, zone: string, at: Date = new Date()): string {
  const name = t(zoneKey(zone), { defaultValue: zone });
  const offset = utcOffset(zone, at);
  return offset && offset !== name ? `${name} (${offset})` : name;
}

/** The currencies a shop picks from, with the symbol people write. */
export const CURRENCY_SYMBOLS: Readonly<Record<string, string>> = {
  CNY: '¥',
  HKD: 'HK$',
  MOP: 'MOP$',
  TWD: 'NT$',
  USD: '$',
  EUR: '€',
  JPY: '¥',
  SGD: 'S$',
  GBP: '£',
  KRW: '₩',
  AUD: 'A$',
  NZD: 'NZ$',
  CAD: 'C$',
  MYR: 'RM',
  THB: '฿',
  PHP: '₱',
  IDR: 'Rp',
  VND: '₫',
  INR: '₹',
  CHF: 'CHF',
};
export const CURRENCIES = Object.keys(CURRENCY_SYMBOLS);

/** The symbol of a currency (CNY -> ¥); an unknown one shows its code. */
export function currencySymbol(currency: string): string {
  return CURRENCY_SYMBOLS[currency] ?? currency;
}

/** A currency as a person reads it: 人民币 ¥ / Chinese yuan ¥. */
export function currencyName(t: Translate, currency: string): string {
  const name = t(`lang.currencies.${currency}`, { defaultValue: currency });
  const symbol = currencySymbol(currency);
  return symbol === name ? name : `${name} ${symbol}`;
}

/** The phone regions a shop picks from, with their calling codes. */
export const CALLING_CODES: Readonly<Record<string, string>> = {
  CN: '86',
  HK: '852',
  MO: '853',
  TW: '886',
  SG: '65',
  MY: '60',
  JP: '81',
  KR: '82',
  TH: '66',
  VN: '84',
  PH: '63',
  ID: '62',
  IN: '91',
  AU: '61',
  NZ: '64',
  US: '1',
  CA: '1',
  GB: '44',
  DE: '49',
  FR: '33',
  AE: '971',
};
export const REGIONS = Object.keys(CALLING_CODES);

/** A phone region as a person reads it: 中国大陆 +86 / Mainland China +86. */
export function regionName(t: Translate, region: string): string {
  const name = t(`lang.regions.${region}`, { defaultValue: region });
  const code = CALLING_CODES[region];
  return code ? `${name} +${code}` : name;
}

/** A plan by its name in the caller's language (starter -> 入门版); else the code. */
export function planName(t: Translate, code: string, fallback?: string): string {
  return t(`lang.plans.${code}`, { defaultValue: fallback ?? code });
}

/** A text kept in both languages (a tier's name, a field's or option's label), in the
 * console's language, the other one when that is empty. */
export function nameIn(name: { 'zh-CN': string; en: string } | null | undefined, lang: string): string {
  if (!name) return '';
  return lang.startsWith('zh') ? name['zh-CN'] || name.en : name.en || name['zh-CN'];
}
