// Recording a purchase at the desk: the amount in yuan (major units), optional items and
// store. One idempotency key (the purchase's external id) per open dialog, so a double
// click or a retry never records twice; the answer shows the points earned and the tier.
import { useState } from 'react';
import { Descriptions, Form, Input, InputNumber, Modal, Result, Select, Typography } from 'antd';
import { useMutation } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { applyServerErrors } from '../common/forms';
import { formatMoney } from '../ops/format';
import { useAuth } from '../auth/AuthContext';
import { newIdempotencyKey } from '../points/cursor';
import { toMinor } from '../points/reasons';
import type { Schemas } from '../api/client';
import { recordPurchase } from './api';

interface PurchaseForm {
  amount?: number | null;
  items?: string[];
  store?: string;
}

export function PurchaseModal({
  memberId,
  onClose,
  onDone,
  tierName = (code) => code,
}: {
  memberId: string;
  onClose: () => void;
  onDone: () => void;
  tierName?: (code: string) => string;
}) {
  const { t, i18n } = useTranslation();
  const { me } = useAuth();
  const currency = me?.tenant.currency ?? 'CNY';
  const [form] = Form.useForm<PurchaseForm>();
  const [key] = useState(() => newIdempotencyKey('desk'));
  const [error, setError] = useState<string>();
  const [done, setDone] = useState<Schemas['PurchaseResult']>();
  const record = useMutation({
    mutationFn: (v: PurchaseForm) =>
      recordPurchase({
        external_id: key,
        member_id: memberId,
        amount: toMinor(v.amount ?? 0, currency),
        items: (v.items ?? []).map((name) => ({ sku: '', name, category: '', quantity: 1, unit_price: 0 })),
        store: v.store?.trim() || undefined,
      }),
    onSuccess: (r) => {
      setDone(r);
      onDone();
    },
    onError: (err) => setError(applyServerErrors(t, form, err, ['amount', 'items', 'store'])),
  });
  if (done) {
    return (
      <Modal open title={t('desk.purchase.title')} onCancel={onClose} onOk={onClose} cancelButtonProps={{ style: { display: 'none' } }} okText={t('desk.close')}>
        <div data-testid="purchase-result">
        <Result
          status="success"
          title={t('desk.purchase.earned', { points: done.points })}
          extra={
            <Descriptions column={1} size="small">
              <Descriptions.Item label={t('desk.purchase.amount')}>{formatMoney(done.amount, currency, i18n.language)}</Descriptions.Item>
              <Descriptions.Item label={t('desk.summary.balance')}>{done.balance}</Descriptions.Item>
              {done.tier && <Descriptions.Item label={t('desk.summary.tier')}>{tierName(done.tier)}</Descriptions.Item>}
              {(done.rule_coupons ?? []).length > 0 && (
                <Descriptions.Item label={t('desk.purchase.ruleCoupons')}>
                  <span data-testid="purchase-rule-coupons">
                    {(done.rule_coupons ?? [])
                      .filter((c) => c.given)
                      .map((c) => c.code)
                      .join(', ') || t('desk.purchase.ruleCouponsNone')}
                  </span>
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
      title={t('desk.purchase.title')}
      onCancel={onClose}
      okText={t('desk.purchase.submit')}
      okButtonProps={{ 'data-testid': 'purchase-submit' } as Record<`data-${string}`, string>}
      cancelText={t('common.cancel')}
      confirmLoading={record.isPending}
      onOk={() => form.submit()}
    >
      {error && (
        <Typography.Paragraph type="danger" role="alert">
          {error}
        </Typography.Paragraph>
      )}
      <Form<PurchaseForm>
        form={form}
        layout="vertical"
        name="desk-purchase"
        onFinish={(v) => {
          // A second submit while the first is on its way is the same purchase: ignore it.
          if (record.isPending) return;
          setError(undefined);
          record.mutate(v);
        }}
      >
        <Form.Item
          name="amount"
          label={t('desk.purchase.amount')}
          extra={t('desk.purchase.amountHelp', { currency })}
          rules={[{ required: true, message: t('validation.required') }]}
        >
          <InputNumber min={0} precision={2} style={{ width: '100%' }} autoFocus inputMode="decimal" />
        </Form.Item>
        <Form.Item name="items" label={t('desk.purchase.items')}>
          <Select mode="tags" open={false} suffixIcon={null} placeholder={t('desk.purchase.itemsHelp')} />
        </Form.Item>
        <Form.Item name="store" label={t('desk.purchase.store')}>
          <Input maxLength={100} />
        </Form.Item>
      </Form>
    </Modal>
  );
}
