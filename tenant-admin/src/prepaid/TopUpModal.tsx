// A top-up at the counter: the amount paid and how, the bonus and the balance after shown
// before confirming (from the server's preview), once per attempt.
import { useState } from 'react';
import { Alert, App, Descriptions, Form, Input, InputNumber, Modal, Select, Typography } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { applyServerErrors, errorText } from '../common/forms';
import { useMoney } from './parts';
import { newIdempotencyKey, refused } from '../points/cursor';
import { METHODS, prepaidKeys, previewTopUp, topUp, type OutsideMethod } from './api';
import { toMinor } from './money';

interface TopUpForm {
  amount: number;
  method: OutsideMethod;
  receipt?: string;
}


export function TopUpModal({ memberId, onClose }: { memberId: string; onClose: () => void }) {
  const { t } = useTranslation();
  const money = useMoney();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm<TopUpForm>();
  const [error, setError] = useState<string>();
  const [key, setKey] = useState(() => newIdempotencyKey('top-up'));
  const amount = toMinor(Form.useWatch('amount', form));
  const preview = useQuery({
    queryKey: prepaidKeys.preview(memberId, amount),
    queryFn: () => previewTopUp(memberId, amount),
    enabled: amount > 0,
    retry: false,
  });
  const save = useMutation({
    mutationFn: (v: TopUpForm) =>
      topUp(memberId, {
        idempotency_key: key,
        amount: toMinor(v.amount),
        method: v.method,
        receipt: v.receipt?.trim() || undefined,
      }),
    onSuccess: (r) => {
      void qc.invalidateQueries({ queryKey: prepaidKeys.member(memberId) });
      void message.success(t('prepaid.topUp.done', { total: money(r.balance.total) }));
      onClose();
    },
    onError: (err) => {
      if (refused(err)) setKey(newIdempotencyKey('top-up'));
      setError(applyServerErrors(t, form, err, ['amount', 'method', 'receipt']));
    },
  });
  const required = { required: true, message: t('validation.required') };
  return (
    <Modal
      open
      title={t('prepaid.topUp.title')}
      onCancel={onClose}
      okText={t('prepaid.topUp.confirm')}
      cancelText={t('common.cancel')}
      confirmLoading={save.isPending}
      onOk={() => form.submit()}
      okButtonProps={{
        disabled: !preview.data,
        ...({ 'data-testid': 'prepaid-top-up-submit' } as Record<`data-${string}`, string>),
      }}
    >
      {error && (
        <Typography.Paragraph type="danger" role="alert">
          {error}
        </Typography.Paragraph>
      )}
      <Form<TopUpForm>
        form={form}
        layout="vertical"
        name="top-up"
        initialValues={{ method: 'wechat' }}
        onFinish={(v) => {
          setError(undefined);
          save.mutate(v);
        }}
      >
        <Form.Item name="amount" label={t('prepaid.topUp.amount')} rules={[required]}>
          <InputNumber min={0.01} precision={2} style={{ width: '100%' }} data-testid="prepaid-top-up-amount" />
        </Form.Item>
        <Form.Item name="method" label={t('prepaid.topUp.method')} rules={[required]}>
          <Select options={METHODS.map((m) => ({ value: m, label: t(`prepaid.method.${m}`) }))} />
        </Form.Item>
        <Form.Item name="receipt" label={t('prepaid.topUp.receipt')}>
          <Input maxLength={100} />
        </Form.Item>
      </Form>
      {preview.isError && <Alert type="error" showIcon message={errorText(t, preview.error)} />}
      {preview.data && (
        <div data-testid="prepaid-top-up-preview">
          <Descriptions size="small" column={1} bordered>
            <Descriptions.Item label={t('prepaid.ledger.principal')}>{money(preview.data.principal)}</Descriptions.Item>
            <Descriptions.Item label={t('prepaid.topUp.bonus')}>
              <span data-testid="prepaid-top-up-bonus">{money(preview.data.bonus)}</span>
            </Descriptions.Item>
            <Descriptions.Item label={t('prepaid.topUp.balanceAfter')}>
              {money(preview.data.balance_after.total)}
            </Descriptions.Item>
          </Descriptions>
          {preview.data.warnings.map((w) => (
            <Alert key={w} type="warning" showIcon message={t(`prepaid.warning.${w}`)} style={{ marginTop: 8 }} />
          ))}
        </div>
      )}
    </Modal>
  );
}
