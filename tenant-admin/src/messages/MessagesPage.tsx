import { Tabs, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { useAuth } from '../auth/AuthContext';
import { TemplatesTab } from './TemplatesTab';
import { SmsTab } from './SmsTab';
import { WebhooksTab } from './WebhooksTab';

/** Messages: the business's e-mail templates and what was sent, and its webhook endpoints. */
export function MessagesPage() {
  const { t } = useTranslation();
  const { me } = useAuth();
  const [params, setParams] = useSearchParams();
  const perms = me?.permissions ?? [];
  const tabs = [
    ...(perms.includes('campaigns:manage') ? [{ key: 'templates', label: t('messages.templates'), children: <TemplatesTab /> }] : []),
    ...(perms.includes('settings:manage') ? [{ key: 'webhooks', label: t('webhooks.title'), children: <WebhooksTab /> }] : []),
    ...(perms.includes('settings:manage') ? [{ key: 'sms', label: t('sms.title'), children: <SmsTab /> }] : []),
  ];
  const active = tabs.find((x) => x.key === params.get('tab'))?.key ?? tabs[0]?.key;
  return (
    <>
      <Typography.Title level={2}>{t('messages.title')}</Typography.Title>
      <Tabs items={tabs} activeKey={active} onChange={(k) => setParams({ tab: k }, { replace: true })} />
    </>
  );
}
