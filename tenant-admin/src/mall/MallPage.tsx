// The points mall (积分商城): the order queue for fulfilment (订单), the catalogue (商品) and
// the mall's settings (设置), one tab each (the tab is kept in the address, so a link opens it).
import { Tabs, Typography } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { useAuth } from '../auth/AuthContext';
import { missingFeature, MallPlanMissing } from './parts';
import { fetchSettings, mallKeys } from './api';
import { ItemsTab } from './ItemsTab';
import { OrdersTab } from './OrdersTab';
import { SettingsTab } from './SettingsTab';

const TABS = ['orders', 'items', 'settings'] as const;

export function MallPage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const [params, setParams] = useSearchParams();
  // One read tells whether the plan has the mall at all.
  const gate = useQuery({ queryKey: mallKeys.settings(), queryFn: fetchSettings, retry: false });
  const shown = TABS.filter((k) => k !== 'settings' || can('settings:read', 'settings:manage'));
  const tab = shown.find((k) => k === params.get('tab')) ?? 'orders';
  const body = { orders: <OrdersTab />, items: <ItemsTab />, settings: <SettingsTab /> };
  return (
    <div data-testid="mall-page">
      <Typography.Title level={3}>{t('mall.page.title')}</Typography.Title>
      {missingFeature(gate.error) ? (
        <MallPlanMissing />
      ) : (
        <Tabs
          activeKey={tab}
          onChange={(k) => setParams(k === 'orders' ? {} : { tab: k }, { replace: true })}
          destroyInactiveTabPane
          items={shown.map((k) => ({
            key: k,
            label: <span data-testid={`mall-tab-${k}`}>{t(`mall.page.${k}`)}</span>,
            children: body[k],
          }))}
        />
      )}
    </div>
  );
}
