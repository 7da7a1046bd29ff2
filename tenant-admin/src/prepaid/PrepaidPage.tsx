// The business's prepaid page: fee standards (会员收费), visit pass products (次卡产品),
// memberships ending soon (即将到期) and the stored-value settings (储值设置), one tab each
// (the tab is kept in the address, so a link opens it).
import { Tabs, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { useAuth } from '../auth/AuthContext';
import { EndingTab } from './EndingTab';
import { PlansTab } from './PlansTab';
import { ProductsTab } from './ProductsTab';
import { SettingsTab } from './SettingsTab';

const TABS = ['plans', 'products', 'ending', 'settings'] as const;

export function PrepaidPage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const [params, setParams] = useSearchParams();
  const shown = TABS.filter((k) => k !== 'settings' || can('settings:read', 'settings:manage'));
  const tab = shown.find((k) => k === params.get('tab')) ?? 'plans';
  const body = { plans: <PlansTab />, products: <ProductsTab />, ending: <EndingTab />, settings: <SettingsTab /> };
  return (
    <div data-testid="prepaid-page">
      <Typography.Title level={3}>{t('prepaid.page.title')}</Typography.Title>
      <Tabs
        activeKey={tab}
        onChange={(k) => setParams(k === 'plans' ? {} : { tab: k }, { replace: true })}
        destroyInactiveTabPane
        items={shown.map((k) => ({
          key: k,
          label: <span data-testid={`prepaid-tab-${k}`}>{t(`prepaid.page.${k}`)}</span>,
          children: body[k],
        }))}
      />
    </div>
  );
}
