// The points mall in the member portal: my points, the items I may order now (with their
// price, stock and limits), ordering one (an address for an item that is shipped), and my
// orders: a pickup order shows its code large, to show at the counter; a pending order can
// be cancelled (my points come back).
import { useState } from 'react';
import { Alert, App, Button, Empty, Form, Input, InputNumber, Modal, Spin, Statistic, Tag, Typography } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { errorText, applyServerErrors } from '../common/forms';
import { formatDateTime } from '../common/format';
import { yuan } from '../prepaid/money';
import { fetchPortalMall, fetchPortalMallOrders, portalCancelMallOrder, portalKeys, portalPlaceMallOrder } from './api';
import { usePortal } from './PortalRoutes';
import type { Schemas } from '../api/client';

type Item = Schemas['MyMallItem'];
type Order = Schemas['MyMallOrder'];

/** The mall (shared by the page and the tab bar, which shows the tab only when the business has one). */
export function usePortalMall() {
  const { slug, token } = usePortal();
  return useQuery({
    queryKey: portalKeys.mall(slug, token),
    queryFn: () => fetchPortalMall(slug),
    enabled: token !== null,
    retry: false,
    staleTime: 30_000,
  });
}

const newKey = (): string =>
  typeof crypto !== 'undefined' && 'randomUUID' in crypto ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;

function price(t: (k: string, o?: Record<string, unknown>) => string, points: number, cash: number): string {
  return cash > 0 ? t('portalMall.withCash', { points, cash: yuan(cash) }) : t('portalMall.points', { points });
}

export function MallPage() {
  const { t } = useTranslation();
  const { slug, token } = usePortal();
  const mall = usePortalMall();
  const orders = useQuery({
    queryKey: portalKeys.mallOrders(slug, token),
    queryFn: () => fetchPortalMallOrders(slug),
    enabled: token !== null,
  });
  const [ordering, setOrdering] = useState<Item>();
  if (mall.isPending) return <Spin style={{ display: 'block', margin: 48 }} />;
  if (mall.isError) return <Alert type="error" showIcon message={errorText(t, mall.error)} />;
  const { available, balance, items } = mall.data;
  if (!available) return <Empty description={t('errors.mall_unavailable')} />;
  return (
    <>
      <Typography.Title level={3}>{t('portalMall.title')}</Typography.Title>
      <section className="portal-panel" style={{ marginBottom: 16 }}>
        <Statistic title={t('portalMall.myPoints')} value={balance} data-testid="portal-mall-balance" />
      </section>
      <section style={{ marginBottom: 16 }} data-testid="portal-mall-items">
        {items.length === 0 && <Empty description={t('portalMall.noItems')} />}
        <div className="portal-mall-grid">
          {items.map((i) => {
            const left = i.per_member ? i.per_member - i.ordered : undefined;
            const can = i.stock > 0 && balance >= i.points && (left === undefined || left > 0);
            return (
              <article key={i.id} className="portal-panel portal-mall-item" data-testid={`portal-mall-item-${i.name}`}>
                {i.picture_url && <img src={i.picture_url} alt={i.name} className="portal-mall-picture" loading="lazy" />}
                <div className="portal-entry-title">{i.name}</div>
                {i.description && <Typography.Paragraph type="secondary" ellipsis={{ rows: 2 }} style={{ margin: 0 }}>{i.description}</Typography.Paragraph>}
                <div className="portal-mall-price">{price(t, i.points, i.cash)}</div>
                <Typography.Text type="secondary">
                  {i.stock > 0 ? t('portalMall.stock', { count: i.stock }) : t('portalMall.soldOut')}
                  {left !== undefined && ` · ${t('portalMall.left', { count: Math.max(0, left) })}`}
                </Typography.Text>
                <Button type="primary" block disabled={!can} onClick={() => setOrdering(i)} data-testid={`portal-mall-order-${i.name}`} style={{ marginTop: 8 }}>
                  {balance < i.points ? t('portalMall.notEnough') : t('portalMall.order')}
                </Button>
              </article>
            );
          })}
        </div>
      </section>
      <section className="portal-panel" data-testid="portal-mall-orders">
        <Typography.Title level={5} style={{ marginTop: 0 }}>
          {t('portalMall.myOrders')}
        </Typography.Title>
        {orders.isError && <Alert type="error" showIcon message={errorText(t, orders.error)} />}
        {orders.data?.length === 0 && <Typography.Text type="secondary">{t('portalMall.noOrders')}</Typography.Text>}
        <ul className="portal-entries">
          {(orders.data ?? []).map((o) => (
            <MyOrder key={o.id} order={o} />
          ))}
        </ul>
      </section>
      {ordering && <OrderModal item={ordering} onClose={() => setOrdering(undefined)} />}
    </>
  );
}

function MyOrder({ order: o }: { order: Order }) {
  const { t, i18n } = useTranslation();
  const { slug } = usePortal();
  const { message, modal } = App.useApp();
  const qc = useQueryClient();
  const cancel = useMutation({
    mutationFn: () => portalCancelMallOrder(slug, o.id),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: portalKeys.allMall(slug) });
      void qc.invalidateQueries({ queryKey: portalKeys.allPoints(slug) });
      void message.success(t('portalMall.cancelled', { points: o.points }));
    },
    onError: (err) => void message.error(errorText(t, err)),
  });
  const open = o.state !== 'completed' && o.state !== 'cancelled';
  return (
    <li className="portal-entry portal-mall-order" data-testid={`portal-mall-order-row-${o.item_name}`}>
      <div style={{ flex: 1, minWidth: 0 }}>
        <div className="portal-entry-title">
          {o.item_name} × {o.quantity}
        </div>
        <Typography.Text type="secondary">
          {price(t, o.points, o.cash)} · {formatDateTime(o.placed_at, i18n.language)}
        </Typography.Text>
        {o.pickup_code && open && (
          <div className="portal-pickup-code" aria-label={t('portalMall.codeLabel')} data-testid="portal-mall-pickup-code">
            {o.pickup_code.slice(0, 4)} {o.pickup_code.slice(4)}
          </div>
        )}
        {o.pickup_code && open && <Typography.Text type="secondary">{t('portalMall.codeHelp')}</Typography.Text>}
        {o.tracking && <Typography.Text type="secondary" style={{ display: 'block' }}>{t('portalMall.tracking', { tracking: o.tracking })}</Typography.Text>}
        {o.coupon_codes.length > 0 && (
          <Typography.Text type="secondary" style={{ display: 'block' }} data-testid={`portal-mall-coupons-${o.id}`}>
            {t('portalMall.coupons', { codes: o.coupon_codes.join(', ') })}
          </Typography.Text>
        )}
      </div>
      <div style={{ textAlign: 'right' }}>
        <Tag data-testid={`portal-mall-state-${o.state}`}>{t(`portalMall.state.${o.state}`)}</Tag>
        {o.cancellable && (
          <Button
            size="small"
            danger
            loading={cancel.isPending}
            style={{ display: 'block', marginTop: 8, marginLeft: 'auto' }}
            data-testid="portal-mall-cancel"
            onClick={() =>
              modal.confirm({
                title: t('portalMall.cancelTitle', { item: o.item_name }),
                content: t('portalMall.cancelBody', { points: o.points }),
                okText: t('portalMall.cancel'),
                cancelText: t('portalMall.keep'),
                okButtonProps: { danger: true, ...({ 'data-testid': 'portal-mall-cancel-ok' } as Record<`data-${string}`, string>) },
                onOk: () => cancel.mutateAsync(),
              })
            }
          >
            {t('portalMall.cancel')}
          </Button>
        )}
      </div>
    </li>
  );
}

interface OrderForm {
  quantity: number;
  recipient?: string;
  phone?: string;
  address?: string;
}

function OrderModal({ item, onClose }: { item: Item; onClose: () => void }) {
  const { t } = useTranslation();
  const { slug } = usePortal();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm<OrderForm>();
  const [error, setError] = useState<string>();
  const [key] = useState(newKey);
  const quantity = Form.useWatch('quantity', form) ?? 1;
  const most = Math.max(1, Math.min(item.stock, item.per_order ?? 1000, item.per_member ? item.per_member - item.ordered : 1000));
  const shipping = item.delivery === 'shipping';
  const place = useMutation({
    mutationFn: (v: OrderForm) =>
      portalPlaceMallOrder(slug, {
        idempotency_key: key,
        item_id: item.id,
        quantity: v.quantity,
        address: shipping ? { recipient: v.recipient ?? '', phone: v.phone ?? '', address: v.address ?? '' } : undefined,
      }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: portalKeys.allMall(slug) });
      void qc.invalidateQueries({ queryKey: portalKeys.allPoints(slug) });
      void message.success(t('portalMall.ordered', { item: item.name }));
      onClose();
    },
    onError: (err) =>
      setError(
        applyServerErrors(t, form, err, ['quantity', 'recipient', 'phone', 'address'], {
          'address.recipient': 'recipient',
          'address.phone': 'phone',
          'address.address': 'address',
        }),
      ),
  });
  const required = { required: true, whitespace: true, message: t('validation.required') };
  return (
    <Modal
      open
      title={t('portalMall.orderTitle', { item: item.name })}
      onCancel={onClose}
      okText={t('portalMall.confirm', { points: item.points * quantity })}
      cancelText={t('portalMall.keep')}
      confirmLoading={place.isPending}
      onOk={() => form.submit()}
      okButtonProps={{ ...({ 'data-testid': 'portal-mall-confirm' } as Record<`data-${string}`, string>) }}
      width={420}
    >
      {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 12 }} role="alert" />}
      <Form<OrderForm>
        form={form}
        layout="vertical"
        initialValues={{ quantity: 1 }}
        onFinish={(v) => {
          setError(undefined);
          place.mutate(v);
        }}
      >
        <Form.Item name="quantity" label={t('portalMall.quantity')} rules={[{ required: true, message: t('validation.required') }]}>
          <InputNumber min={1} max={most} precision={0} data-testid="portal-mall-quantity" />
        </Form.Item>
        <Typography.Paragraph>{t('portalMall.total', { price: price(t, item.points * quantity, item.cash * quantity) })}</Typography.Paragraph>
        {shipping ? (
          <>
            <Form.Item name="recipient" label={t('portalMall.recipient')} rules={[required]}>
              <Input maxLength={200} autoComplete="name" data-testid="portal-mall-recipient" />
            </Form.Item>
            <Form.Item name="phone" label={t('portalMall.phone')} rules={[required]}>
              <Input maxLength={200} inputMode="tel" autoComplete="tel" data-testid="portal-mall-phone" />
            </Form.Item>
            <Form.Item name="address" label={t('portalMall.address')} rules={[required]}>
              <Input.TextArea maxLength={200} rows={2} autoComplete="street-address" data-testid="portal-mall-address" />
            </Form.Item>
          </>
        ) : (
          <Typography.Paragraph type="secondary">
            {t(item.delivery === 'virtual' ? 'portalMall.virtualHelp' : 'portalMall.pickupHelp')}
          </Typography.Paragraph>
        )}
      </Form>
    </Modal>
  );
}
