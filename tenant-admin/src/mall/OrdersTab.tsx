// 订单: the mall's order queue for fulfilment. Filter by state; type or scan a pickup code
// to complete the order it belongs to; approve, ship (with a tracking number), make ready
// for pickup, complete, or cancel with a reason (the points go back to the member). Each
// row opens the order's history: every change, who made it and why.
import { useState } from 'react';
import { App, Button, Form, Input, Modal, Segmented, Space, Table, Typography } from 'antd';
import { ScanOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useActorName } from '../members/changes';
import { applyServerErrors, errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { useAuth } from '../auth/AuthContext';
import { MemberLink } from '../prepaid/parts';
import { completePickup, fetchOrder, fetchOrders, mallKeys, moveOrder, newKey, STATES, type Action, type MallOrder } from './api';
import { StateTag, usePrice } from './parts';

const FILTERS = ['open', ...STATES, 'all'] as const;
type Filter = (typeof FILTERS)[number];

export function OrdersTab() {
  const { t, i18n } = useTranslation();
  const { can } = useAuth();
  const price = usePrice();
  const [filter, setFilter] = useState<Filter>('pending');
  const [asking, setAsking] = useState<{ order: MallOrder; action: 'cancel' | 'ship' }>();
  const state = filter === 'all' || filter === 'open' ? undefined : filter;
  const orders = useQuery({ queryKey: mallKeys.orders(filter), queryFn: () => fetchOrders(state) });
  const rows = (orders.data ?? []).filter((o) => filter !== 'open' || (o.state !== 'completed' && o.state !== 'cancelled'));
  const writer = can('purchases:write');
  return (
    <div data-testid="mall-orders">
      <div className="page-toolbar" style={{ flexWrap: 'wrap', gap: 8 }}>
        <Segmented<Filter>
          value={filter}
          onChange={setFilter}
          options={FILTERS.map((f) => ({ value: f, label: <span data-testid={`mall-filter-${f}`}>{t(`mall.filter.${f}`)}</span> }))}
          style={{ maxWidth: '100%', overflowX: 'auto' }}
        />
        {writer && <PickupBox />}
      </div>
      <Table<MallOrder>
        size="small"
        rowKey="id"
        loading={orders.isPending}
        pagination={{ pageSize: 50, hideOnSinglePage: true }}
        scroll={{ x: 980 }}
        dataSource={rows}
        locale={{ emptyText: orders.isError ? errorText(t, orders.error) : t('mall.orders.none') }}
        expandable={{ expandedRowRender: (o) => <OrderHistory id={o.id} /> }}
        columns={[
          { title: t('mall.orders.placedAt'), dataIndex: 'placed_at', render: (v: string) => formatDateTime(v, i18n.language) },
          { title: t('mall.orders.member'), key: 'member', render: (_, o) => <MemberLink id={o.member_id} name={o.member_name} /> },
          {
            title: t('mall.orders.item'),
            key: 'item',
            render: (_, o) => (
              <span data-testid={`mall-order-item-${o.id}`}>
                {o.item_name} × {o.quantity}
              </span>
            ),
          },
          { title: t('mall.orders.price'), key: 'price', render: (_, o) => price(o.points, o.cash) },
          {
            title: t('mall.orders.delivery'),
            key: 'delivery',
            render: (_, o) => <Delivery order={o} />,
          },
          { title: t('mall.orders.state'), dataIndex: 'state', render: (s: string) => <StateTag state={s} /> },
          {
            title: t('mall.orders.actions'),
            key: 'actions',
            render: (_, o) =>
              writer ? (
                <Space size={4} wrap>
                  {(o.moves as Action[]).map((a) => (
                    <MoveButton key={a} order={o} action={a} ask={(action) => setAsking({ order: o, action })} />
                  ))}
                </Space>
              ) : null,
          },
        ]}
      />
      {asking && <AskModal order={asking.order} action={asking.action} onClose={() => setAsking(undefined)} />}
    </div>
  );
}

function Delivery({ order: o }: { order: MallOrder }) {
  const { t } = useTranslation();
  const a = o.address as { recipient?: string; phone?: string; address?: string } | null | undefined;
  return (
    <div>
      <div>{t(`mall.delivery.${o.delivery}`)}</div>
      {o.pickup_code && (
        <Typography.Text type="secondary" data-testid={`mall-order-code-${o.id}`}>
          {t('mall.orders.code', { code: o.pickup_code })}
        </Typography.Text>
      )}
      {a && (
        <Typography.Text type="secondary" style={{ display: 'block' }}>
          {a.recipient} {a.phone} {a.address}
        </Typography.Text>
      )}
      {o.tracking && (
        <Typography.Text type="secondary" style={{ display: 'block' }}>
          {t('mall.orders.tracking', { tracking: o.tracking })}
        </Typography.Text>
      )}
      {o.coupon_codes.length > 0 && (
        <Typography.Text type="secondary" style={{ display: 'block' }} data-testid={`mall-order-coupons-${o.id}`}>
          {t('mall.orders.coupons', { codes: o.coupon_codes.join(', ') })}
        </Typography.Text>
      )}
    </div>
  );
}

function useMove(onDone?: () => void) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, body }: { id: string; body: Parameters<typeof moveOrder>[1] }) => moveOrder(id, body),
    onSuccess: (o) => {
      void qc.invalidateQueries({ queryKey: mallKeys.all });
      void message.success(t('mall.orders.moved', { item: o.item_name, state: t(`mall.state.${o.state}`) }));
      onDone?.();
    },
  });
}

function MoveButton({ order, action, ask }: { order: MallOrder; action: Action; ask: (a: 'cancel' | 'ship') => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const move = useMove();
  const testId = `mall-move-${action}-${order.id}`;
  if (action === 'cancel' || action === 'ship') {
    return (
      <Button size="small" danger={action === 'cancel'} onClick={() => ask(action)} data-testid={testId}>
        {t(`mall.action.${action}`)}
      </Button>
    );
  }
  return (
    <Button
      size="small"
      type={action === 'complete' ? 'primary' : 'default'}
      loading={move.isPending}
      onClick={() =>
        move.mutate(
          { id: order.id, body: { action, idempotency_key: newKey() } },
          { onError: (err) => void message.error(errorText(t, err)) },
        )
      }
      data-testid={testId}
    >
      {t(`mall.action.${action}`)}
    </Button>
  );
}

/** Cancelling asks why; shipping asks for the tracking number. */
function AskModal({ order, action, onClose }: { order: MallOrder; action: 'cancel' | 'ship'; onClose: () => void }) {
  const { t } = useTranslation();
  const [form] = Form.useForm<{ reason?: string; tracking?: string }>();
  const [error, setError] = useState<string>();
  const [key] = useState(newKey);
  const move = useMove(onClose);
  return (
    <Modal
      open
      title={t(`mall.ask.${action}Title`, { item: order.item_name, member: order.member_name })}
      onCancel={onClose}
      okText={t(`mall.action.${action}`)}
      okButtonProps={{ danger: action === 'cancel', ...({ 'data-testid': 'mall-ask-submit' } as Record<`data-${string}`, string>) }}
      cancelText={t('common.cancel')}
      confirmLoading={move.isPending}
      onOk={() => form.submit()}
    >
      {action === 'cancel' && <Typography.Paragraph>{t('mall.ask.cancelHelp', { points: order.points })}</Typography.Paragraph>}
      {error && (
        <Typography.Paragraph type="danger" role="alert">
          {error}
        </Typography.Paragraph>
      )}
      <Form
        form={form}
        layout="vertical"
        onFinish={(v) =>
          move.mutate(
            { id: order.id, body: { action, reason: v.reason?.trim() || undefined, tracking: v.tracking?.trim() || undefined, idempotency_key: key } },
            { onError: (err) => setError(applyServerErrors(t, form, err, ['reason', 'tracking'])) },
          )
        }
      >
        {action === 'cancel' ? (
          <Form.Item name="reason" label={t('mall.ask.reason')} rules={[{ required: true, whitespace: true, message: t('validation.required') }]}>
            <Input.TextArea maxLength={200} rows={2} data-testid="mall-ask-reason" />
          </Form.Item>
        ) : (
          <Form.Item name="tracking" label={t('mall.ask.tracking')}>
            <Input maxLength={100} data-testid="mall-ask-tracking" />
          </Form.Item>
        )}
      </Form>
    </Modal>
  );
}

/** Type or scan a pickup code: the order it belongs to is completed. */
function PickupBox() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [code, setCode] = useState('');
  const [error, setError] = useState<string>();
  const done = useMutation({
    mutationFn: (c: string) => completePickup(c),
    onSuccess: (o) => {
      void qc.invalidateQueries({ queryKey: mallKeys.all });
      void message.success(t('mall.pickup.done', { item: o.item_name, quantity: o.quantity, member: o.member_name }));
      setCode('');
      setError(undefined);
    },
    onError: (err) => setError(errorText(t, err)),
  });
  return (
    <Space direction="vertical" size={0}>
      <Input.Search
        value={code}
        onChange={(e) => setCode(e.target.value)}
        placeholder={t('mall.pickup.placeholder')}
        enterButton={
          <span>
            <ScanOutlined /> {t('mall.pickup.complete')}
          </span>
        }
        loading={done.isPending}
        onSearch={(v) => v.trim() && done.mutate(v.trim())}
        style={{ width: 320, maxWidth: '100%' }}
        inputMode="numeric"
        aria-label={t('mall.pickup.placeholder')}
        data-testid="mall-pickup-code"
      />
      {error && (
        <Typography.Text type="danger" role="alert" data-testid="mall-pickup-error">
          {error}
        </Typography.Text>
      )}
    </Space>
  );
}

function OrderHistory({ id }: { id: string }) {
  const { t, i18n } = useTranslation();
  const q = useQuery({ queryKey: mallKeys.order(id), queryFn: () => fetchOrder(id) });
  if (q.isPending) return <Typography.Text type="secondary">…</Typography.Text>;
  if (q.isError) return <Typography.Text type="danger">{errorText(t, q.error)}</Typography.Text>;
  return (
    <ul className="mall-history" data-testid={`mall-history-${id}`} style={{ margin: 0, paddingLeft: 16 }}>
      {q.data.events.map((e, n) => (
        <li key={n}>
          {formatDateTime(e.at, i18n.language)} · <StateTag state={e.to_state} /> <Actor subject={e.actor} />
          {e.reason && ` · ${e.reason === 'pending_limit' ? t('mall.orders.pendingLimit') : e.reason}`}
        </li>
      ))}
    </ul>
  );
}

function Actor({ subject }: { subject: string }) {
  const { t } = useTranslation();
  const nameOf = useActorName();
  if (subject.startsWith('system:')) return <>{t('mall.orders.bySystem')}</>;
  return <>{nameOf(subject)}</>;
}
