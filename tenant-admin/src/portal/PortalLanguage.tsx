// The portal's language switch: two words a member taps (the console's select brings a
// dropdown library the portal's first load does without).
import { useTranslation } from 'react-i18next';
import { currentLanguage, setLanguage } from '../i18n';

const NAMES = { 'zh-CN': '中文', en: 'EN' } as const;

export function PortalLanguage() {
  const { t } = useTranslation();
  const now = currentLanguage();
  const other = now === 'en' ? 'zh-CN' : 'en';
  return (
    <button type="button" className="portal-language" data-testid="language-switch" aria-label={t('common.language')} onClick={() => setLanguage(other)}>
      {NAMES[other]}
    </button>
  );
}
