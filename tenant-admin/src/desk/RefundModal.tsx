// Refunding one of the member's recent purchases: pick it, optionally a part of it (in
// yuan); the refund's external id is one key per open dialog, so a retry never refunds
// twice. Shows the points taken back, any debt, and the coupons the refund gave back.
import { useState } from 'react';
import { Descriptions, Form, InputNumber, Modal, Radio, Result, Spin, Typography } from 'antd';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { applyServerErrors, errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { formatMoney } from '../ops/format';
import { useAuth } from '../auth/AuthContext';
import { fetchPurchases, pointsKeys } from '../points/api';
import { newIdempotencyKey } from '../points/cursor';
import { toMinor } from '../points/reasons';
import type { Schemas } from '../api/client';
import { recordRefund } from './api';

interface RefundForm {
  purchase_id?: string;
  amount?: number | null;
}

export function RefundModal({ memberId, onClose, onDone }: { memberId: string; onClose: () => void; onDone: () => void }) {
  const { t, i18n } = useTranslation();
  const { me } = useAuth();
  const currency = me?.tenant.currency ?? 'CNY';
  const money = (minor: number) => formatMoney(minor, currency, i18n.language);
  const [form] = Form.useForm<RefundForm>();
  const [key] = useState(() => newIdempotencyKey('desk-refund'));
  const [error, setError] = useState<string>();
  const [done, setDone] = useState<Schemas['RefundResult']>();
  const purchases = useQuery({
    queryKey: pointsKeys.purchases(memberId, undefined),
    queryFn: () => fetchPurchases(memberId, { limit: 10, before: undefined }),
  });
  const open = (purchases.data?.items ?? []).filter((p) => p.refunded < p.amount);
  const refund = useMutation({
    mutationFn: (v: RefundForm) =>
      recordRefund({
        external_id: key,
        purchase_id: v.purchase_id,
        amount: v.amount ? toMinor(v.amount, currency) : undefined,
      }),
    onSuccess: (r) => {
      setDone(r);
      onDone();
    },
    onError: (err) => setError(applyServerErrors(t, form, err, ['purchase_id', 'amount'])),
  });
  if (done) {
    return (
      <Modal open title={t('desk.refund.title')} onCancel={onClose} onOk={onClose} cancelButtonProps={{ style: { display: 'none' } }} okText={t('desk.close')}>
        <div data-testid="refund-result">
        <Result
          status="success"
          title={t('desk.refund.done', { points: done.points })}
          extra={
            <Descriptions column={1} size="small">
              <Descriptions.Item label={t('desk.refund.amount')}>{money(done.amount)}</Descriptions.Item>
              <Descriptions.Item label={t('desk.summary.balance')}>{done.balance}</Descriptions.Item>
              {done.debt_added > 0 && <Descriptions.Item label={t('desk.summary.debt')}>{done.debt}</Descriptions.Item>}
              {done.restored_coupons.length > 0 && (
                <Descriptions.Item label={t('desk.refund.restoredCoupons')}>
                  <span data-testid="refund-restored-coupons">{done.restored_coupons.join(', ')}</span>
                </Descriptions.Item>
              )}
            </Descriptions>
          }
        />
        </div>
      </Modal>
    );
  }
  return (
    <Modal
      open
      title={t('desk.refund.title')}
      onCancel={onClose}
      okText={t('desk.refund.submit')}
      okButtonProps={{ disabled: open.length === 0, ...({ 'data-testid': 'refund-submit' } as Record<`data-${string}`, string>) }}
      cancelText={t('common.cancel')}
      confirmLoading={refund.isPending}
      onOk={() => form.submit()}
    >
      {error && (
        <Typography.Paragraph type="danger" role="alert">
          {error}
        </Typography.Paragraph>
      )}
      {purchases.isPending && <Spin />}
      {purchases.isError && <Typography.Text type="danger">{errorText(t, purchases.error)}</Typography.Text>}
      {purchases.data && open.length === 0 && <Typography.Text type="secondary">{t('desk.refund.none')}</Typography.Text>}
      <Form<RefundForm>
        form={form}
        layout="vertical"
        name="desk-refund"
        onFinish={(v) => {
          if (refund.isPending) return;
          setError(undefined);
          refund.mutate(v);
        }}
      >
        {open.length > 0 && (
          <Form.Item name="purchase_id" label={t('desk.refund.purchase')} rules={[{ required: true, message: t('validation.required') }]}>
            <Radio.Group style={{ display: 'flex', flexDirection: 'column', gap: 8 }}>
              {open.map((p) => (
                <Radio key={p.id} value={p.id} data-testid="refund-purchase">
                  {formatDateTime(p.occurred_at, i18n.language, me?.tenant.time_zone)} · {money(p.amount - p.refunded)} ·{' '}
                  {t('desk.refund.points', { points: p.points })}
                </Radio>
              ))}
            </Radio.Group>
          </Form.Item>
        )}
        <Form.Item name="amount" label={t('desk.refund.amount')} extra={t('desk.refund.amountHelp', { currency })}>
          <InputNumber min={0.01} precision={2} style={{ width: '100%' }} />
        </Form.Item>
      </Form>
    </Modal>
  );
}
