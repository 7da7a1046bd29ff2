import i18next from 'i18next';
import { english, zh } from './resources';

/** The console's own strings through a real i18next, for tests of text-making functions. */
export async function translator(lng: 'zh-CN' | 'en') {
  const i = i18next.createInstance();
  await i.init({
    lng,
    resources: { 'zh-CN': { translation: zh }, en: { translation: english } },
    interpolation: { escapeValue: false },
  });
  return i.t.bind(i) as (key: string, options?: Record<string, unknown>) => string;
}
