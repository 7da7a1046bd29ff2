// A member's points mall orders, newest first, on the member's page (the queue's moves are
// made on the mall page).
import { Table } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { fetchOrders, mallKeys, type MallOrder } from './api';
import { MallPlanMissing, missingFeature, StateTag, usePrice } from './parts';

export function MemberMallOrders({ memberId }: { memberId: string }) {
  const { t, i18n } = useTranslation();
  const price = usePrice();
  const q = useQuery({ queryKey: mallKeys.orders(undefined, memberId), queryFn: () => fetchOrders(undefined, memberId), retry: false });
  if (missingFeature(q.error)) return <MallPlanMissing />;
  return (
    <div data-testid="member-mall-orders">
      <Table<MallOrder>
        size="small"
        rowKey="id"
        loading={q.isPending}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        scroll={{ x: 640 }}
        dataSource={q.data ?? []}
        locale={{ emptyText: q.isError ? errorText(t, q.error) : t('mall.orders.none') }}
        columns={[
          { title: t('mall.orders.placedAt'), dataIndex: 'placed_at', render: (v: string) => formatDateTime(v, i18n.language) },
          { title: t('mall.orders.item'), key: 'item', render: (_, o) => `${o.item_name} × ${o.quantity}` },
          { title: t('mall.orders.price'), key: 'price', render: (_, o) => price(o.points, o.cash) },
          {
            title: t('mall.orders.delivery'),
            key: 'delivery',
            render: (_, o) => (
              <>
                <div>{t(`mall.delivery.${o.delivery}`)}</div>
                {o.coupon_codes.length > 0 && <div>{t('mall.orders.coupons', { codes: o.coupon_codes.join(', ') })}</div>}
              </>
            ),
          },
          { title: t('mall.orders.state'), dataIndex: 'state', render: (s: string) => <StateTag state={s} /> },
        ]}
      />
      <Link to="/mall?tab=orders">{t('mall.orders.queue')}</Link>
    </div>
  );
}
