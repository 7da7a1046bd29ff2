// Redeeming a member's points: for a reward, or as a deduction off a purchase. Before
// anything is sent the clerk confirms the points and their money value (money off with the
// points left empty shows what the cap allows, and that number is what is sent); above the
// business's check threshold the member confirms too, with their code or an SMS code. One
// idempotency key per attempt; shows what was taken and what is due.
import { useState } from 'react';
import { Alert, App, Button, Descriptions, Form, Input, InputNumber, Modal, Radio, Space, Typography } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { ApiProblem } from '../api/errors';
import { applyServerErrors, errorText } from '../common/forms';
import { formatMoney } from '../ops/format';
import { useAuth } from '../auth/AuthContext';
import { sendRedemptionCode } from '../desk/api';
import { fetchPointSettings, pointsKeys, redeemPoints } from './api';
import { newIdempotencyKey, refused } from './cursor';
import { previewRedemption, type RedemptionPreview } from './redeem';
import { toMinor } from './reasons';
import { currencySymbol } from '../common/format';

interface RedeemForm {
  mode: 'reward' | 'deduction';
  reward?: string;
  points?: number | null;
  purchase_amount?: number | null;
}

interface CheckForm {
  member_code?: string;
  sms_code?: string;
}

const CHECK_CODES = ['member_check_required', 'member_code_invalid', 'member_code_expired'];

export function RedeemModal({
  memberId,
  balance,
  onClose,
  onDone,
}: {
  memberId: string;
  balance: number;
  onClose: () => void;
  onDone?: () => void;
}) {
  const { t, i18n } = useTranslation();
  const { me } = useAuth();
  const { modal, message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm<RedeemForm>();
  const [check] = Form.useForm<CheckForm>();
  const mode = Form.useWatch('mode', form) ?? 'reward';
  const [error, setError] = useState<string>();
  const [key, setKey] = useState(() => newIdempotencyKey('redeem'));
  const [pending, setPending] = useState<{ v: RedeemForm; preview: RedemptionPreview }>();
  const [askCheck, setAskCheck] = useState(false);
  const currency = me?.tenant.currency ?? 'CNY';
  const money = (minor: number) => formatMoney(minor, currency, i18n.language);
  const settings = useQuery({ queryKey: pointsKeys.settings(), queryFn: fetchPointSettings });

  const sms = useMutation({
    mutationFn: () => sendRedemptionCode(memberId),
    onSuccess: () => void message.success(t('points.redeem.smsSent')),
    onError: (err) => setError(errorText(t, err)),
  });

  const redeem = useMutation({
    mutationFn: ({ v, preview, c }: { v: RedeemForm; preview: RedemptionPreview; c: CheckForm }) =>
      redeemPoints(memberId, {
        idempotency_key: key,
        // The points confirmed are the points sent: never "as many as allowed" unseen.
        points: preview.points,
        ...(v.mode === 'reward'
          ? { reward: (v.reward ?? '').trim() }
          : { purchase_amount: toMinor(v.purchase_amount ?? 0, currency) }),
        member_code: c.member_code?.trim() || undefined,
        sms_code: c.sms_code?.trim() || undefined,
      }),
    onSuccess: (r) => {
      void qc.invalidateQueries({ queryKey: pointsKeys.member(memberId) });
      onDone?.();
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
      if (err instanceof ApiProblem && CHECK_CODES.includes(err.code)) {
        setAskCheck(true);
        const field = err.fields[0]?.field === 'sms_code' ? 'sms_code' : 'member_code';
        check.setFields([{ name: field, errors: [t(`points.redeem.errors.${err.code}`, { defaultValue: err.message })] }]);
        setError(undefined);
        return;
      }
      if (err instanceof ApiProblem && err.fields.some((f) => f.field === 'sms_code')) {
        check.setFields([{ name: 'sms_code', errors: [t('points.redeem.errors.smsWrong')] }]);
        return;
      }
      if (refused(err)) setKey(newIdempotencyKey('redeem'));
      setPending(undefined);
      setError(applyServerErrors(t, form, err, ['reward', 'points', 'purchase_amount']));
    },
  });

  const required = { required: true, message: t('validation.required') };
  const s = settings.data;
  const review = (v: RedeemForm) => {
    if (!s) return;
    const preview = previewRedemption(s, balance, {
      points: v.points,
      purchaseAmount: v.mode === 'deduction' ? toMinor(v.purchase_amount ?? 0, currency) : undefined,
    });
    if (preview.points <= 0) {
      setError(t('points.redeem.nothingToSpend'));
      return;
    }
    setAskCheck(preview.needsCheck);
    setPending({ v, preview });
  };

  if (pending) {
    const p = pending.preview;
    return (
      <Modal
        open
        title={t('points.redeem.confirmTitle')}
        onCancel={() => setPending(undefined)}
        cancelText={t('points.redeem.back')}
        okText={t('points.redeem.confirm')}
        okButtonProps={{ 'data-testid': 'redeem-confirm' } as Record<`data-${string}`, string>}
        confirmLoading={redeem.isPending}
        onOk={() => redeem.mutate({ ...pending, c: check.getFieldsValue() })}
      >
        <Descriptions column={1} size="small" bordered data-testid="redeem-preview">
          <Descriptions.Item label={t('points.member.points')}>{p.points}</Descriptions.Item>
          <Descriptions.Item label={t('points.redeem.worth')}>{money(p.value)}</Descriptions.Item>
          {p.amountDue !== undefined && (
            <Descriptions.Item label={t('points.redeem.amountDue')}>{money(p.amountDue)}</Descriptions.Item>
          )}
          <Descriptions.Item label={t('points.redeem.balanceAfter')}>{balance - p.points}</Descriptions.Item>
        </Descriptions>
        {askCheck && (
          <>
            <Alert type="warning" showIcon style={{ margin: '12px 0' }} message={t('points.redeem.checkNeeded')} />
            <Form<CheckForm> form={check} layout="vertical" name="redeem-check">
              <Form.Item name="member_code" label={t('points.redeem.memberCode')} extra={t('points.redeem.memberCodeHelp')}>
                <Input autoComplete="off" data-testid="redeem-member-code" />
              </Form.Item>
              <Form.Item name="sms_code" label={t('points.redeem.smsCode')}>
                <Space.Compact style={{ width: '100%' }}>
                  <Input autoComplete="one-time-code" inputMode="numeric" maxLength={8} />
                  <Button loading={sms.isPending} onClick={() => sms.mutate()}>
                    {t('points.redeem.sendSms')}
                  </Button>
                </Space.Compact>
              </Form.Item>
            </Form>
          </>
        )}
        {error && (
          <Typography.Paragraph type="danger" role="alert">
            {error}
          </Typography.Paragraph>
        )}
      </Modal>
    );
  }

  return (
    <Modal
      open
      title={t('points.redeem.title')}
      onCancel={onClose}
      okText={t('points.redeem.review')}
      okButtonProps={{ disabled: !s, ...({ 'data-testid': 'redeem-review' } as Record<`data-${string}`, string>) }}
      cancelText={t('common.cancel')}
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
          review(v);
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
