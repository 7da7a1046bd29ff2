// Redeeming a member's points: for a reward, or as a deduction off a purchase, once per
// attempt; shows what was taken and what is due.
import { useState } from 'react';
import { App, Descriptions, Form, Input, InputNumber, Modal, Radio, Typography } from 'antd';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { applyServerErrors } from '../common/forms';
import { formatMoney } from '../ops/format';
import { useAuth } from '../auth/AuthContext';
import { pointsKeys, redeemPoints } from './api';
import { newIdempotencyKey, refused } from './cursor';
import { toMinor } from './reasons';
import { currencySymbol } from '../common/format';

interface RedeemForm {
  mode: 'reward' | 'deduction';
  reward?: string;
  points?: number | null;
  purchase_amount?: number | null;
}

export function RedeemModal({ memberId, balance, onClose }: { memberId: string; balance: number; onClose: () => void }) {
  const { t, i18n } = useTranslation();
  const { me } = useAuth();
  const { modal } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm<RedeemForm>();
  const mode = Form.useWatch('mode', form) ?? 'reward';
  const [error, setError] = useState<string>();
  const [key, setKey] = useState(() => newIdempotencyKey('redeem'));
  const currency = me?.tenant.currency ?? 'CNY';
  const money = (minor: number) => formatMoney(minor, currency, i18n.language);
  const redeem = useMutation({
    mutationFn: (v: RedeemForm) =>
      redeemPoints(
        memberId,
        v.mode === 'reward'
          ? { idempotency_key: key, reward: (v.reward ?? '').trim(), points: v.points ?? undefined }
          : {
              idempotency_key: key,
              // The amount is typed in major units (yuan); the API takes minor units.
              purchase_amount: toMinor(v.purchase_amount ?? 0, currency),
              points: v.points ?? undefined,
            },
      ),
    onSuccess: (r) => {
      void qc.invalidateQueries({ queryKey: pointsKeys.member(memberId) });
      onClose();
      void modal.success({
        title: t('points.redeem.done'),
        content: (
          <Descriptions column={1} size="small">
            <Descriptions.Item label={t('points.member.points')}>{r.points}</Descriptions.Item>
            {r.value !== undefined && r.value !== null && (
              <Descriptions.Item label={t('points.redeem.value')}>{money(r.value)}</Descriptions.Item>
            )}
            {r.amount_due !== undefined && r.amount_due !== null && (
              <Descriptions.Item label={t('points.redeem.amountDue')}>{money(r.amount_due)}</Descriptions.Item>
            )}
            <Descriptions.Item label={t('points.member.balance')}>{r.balance}</Descriptions.Item>
          </Descriptions>
        ),
      });
    },
    onError: (err) => {
      if (refused(err)) setKey(newIdempotencyKey('redeem'));
      setError(applyServerErrors(t, form, err, ['reward', 'points', 'purchase_amount']));
    },
  });
  const required = { required: true, message: t('validation.required') };
  return (
    <Modal
      open
      title={t('points.redeem.title')}
      onCancel={onClose}
      okText={t('points.redeem.submit')}
      cancelText={t('common.cancel')}
      confirmLoading={redeem.isPending}
      onOk={() => form.submit()}
    >
      <Typography.Paragraph type="secondary">{t('points.redeem.balance', { balance })}</Typography.Paragraph>
      {error && (
        <Typography.Paragraph type="danger" role="alert">
          {error}
        </Typography.Paragraph>
      )}
      <Form<RedeemForm>
        form={form}
        layout="vertical"
        name="redeem-points"
        initialValues={{ mode: 'reward' }}
        onFinish={(v) => {
          setError(undefined);
          redeem.mutate(v);
        }}
      >
        <Form.Item name="mode" label={t('points.redeem.mode')}>
          <Radio.Group
            options={[
              { value: 'reward', label: t('points.redeem.reward') },
              { value: 'deduction', label: t('points.redeem.deduction') },
            ]}
          />
        </Form.Item>
        {mode === 'reward' ? (
          <>
            <Form.Item name="reward" label={t('points.redeem.rewardName')} rules={[required, { max: 200 }]}>
              <Input maxLength={200} />
            </Form.Item>
            <Form.Item name="points" label={t('points.member.points')} rules={[required]}>
              <InputNumber min={1} precision={0} style={{ width: '100%' }} />
            </Form.Item>
          </>
        ) : (
          <>
            <Form.Item
              name="purchase_amount"
              label={t('points.redeem.purchaseAmount')}
              extra={t('points.redeem.purchaseAmountHelp', { currency: currencySymbol(currency) })}
              rules={[required]}
            >
              <InputNumber min={0.01} precision={2} style={{ width: '100%' }} />
            </Form.Item>
            <Form.Item name="points" label={t('points.member.points')} extra={t('points.redeem.pointsHelp')}>
              <InputNumber min={1} precision={0} style={{ width: '100%' }} />
            </Form.Item>
          </>
        )}
      </Form>
    </Modal>
  );
}
