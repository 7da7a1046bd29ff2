import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import dayjs from 'dayjs';
import 'dayjs/locale/zh-cn';
import { english, zh } from './resources';
import { setFieldProblemText } from '../api/errors';
import { fieldProblemText } from '../api/fieldText';

export const LANGUAGES = ['zh-CN', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];
const KEY = 'patron.lang';

function stored(): Language {
  const v = localStorage.getItem(KEY);
  return (LANGUAGES as readonly string[]).includes(v ?? '') ? (v as Language) : 'zh-CN';
}

void i18n.use(initReactI18next).init({
  resources: { 'zh-CN': { translation: zh }, en: { translation: english } },
  lng: stored(),
  fallbackLng: 'zh-CN',
  interpolation: { escapeValue: false },
  returnNull: false,
});

// Field problems from the server are said in the console's language wherever they show.
setFieldProblemText((f, outer) => fieldProblemText(i18n.t.bind(i18n) as never, f, outer));

/** dayjs's locale for a console language (antd's date pickers name months and days by it). */
export function dayjsLocale(lang: string): string {
  return lang === 'en' ? 'en' : 'zh-cn';
}

function follow(lang: string): void {
  document.documentElement.lang = lang;
  dayjs.locale(dayjsLocale(lang));
}
follow(i18n.language);
i18n.on('languageChanged', follow);

export function setLanguage(lang: Language): void {
  localStorage.setItem(KEY, lang);
  void i18n.changeLanguage(lang);
}

export function currentLanguage(): Language {
  return (LANGUAGES as readonly string[]).includes(i18n.language)
    ? (i18n.language as Language)
    : 'zh-CN';
}

export default i18n;
