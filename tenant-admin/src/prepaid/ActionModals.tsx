// What staff do to a member's membership or pass once sold: renew (price and new last day
// shown first), freeze (the new last day shown first), cancel (the refund shown before
// confirming), consume a visit (the service's category when the pass is limited), reverse a
// visit with a reason, renew a pass (its new last day, the visits carried over), and refund a
// top-up (the principal not yet spent, shown first).
import { useState } from 'react';
import { Alert, App, Descriptions, Form, Input, InputNumber, Modal, Select, Typography } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { ApiProblem } from '../api/errors';
import { applyServerErrors, errorText } from '../common/forms';
import { newIdempotencyKey, refused } from '../points/cursor';
import {
  cancelMembership,
  consumeVisit,
  fetchPlans,
  fetchProducts,
  freezeMembership,
  prepaidKeys,
  previewTopUpRefund,
  refundTopUp,
  renewMembership,
  renewPass,
  reverseVisit,
  type MemberPass,
  type OutsideMethod,
  type Membership,
  type TopUp,
} from './api';
import { addDays, cancelRefund, passLastDay, periodEnd } from './money';
import { PaymentFields, useMoney, useToday } from './parts';

const testAttr = (id: string) => ({ 'data-testid': id }) as Record<`data-${string}`, string>;

interface PaymentForm {
  method: OutsideMethod;
  receipt?: string;
}

function useDone(memberId: string, onClose: () => void) {
  const qc = useQueryClient();
  const { message } = App.useApp();
  return (text: string) => {
    void qc.invalidateQueries({ queryKey: prepaidKeys.member(memberId) });
    void qc.invalidateQueries({ queryKey: prepaidKeys.business() });
    void message.success(text);
    onClose();
  };
}

function Problem({ error }: { error?: string }) {
  return error ? (
    <Typography.Paragraph type="danger" role="alert">
      {error}
    </Typography.Paragraph>
  ) : null;
}

type Props = { memberId: string; membership: Membership; onClose: () => void };

export function RenewMembershipModal({ memberId, membership: m, onClose }: Props) {
  const { t } = useTranslation();
  const money = useMoney();
  const today = useToday();
  const done = useDone(memberId, onClose);
  const [form] = Form.useForm<PaymentForm>();
  const [error, setError] = useState<string>();
  const plans = useQuery({ queryKey: prepaidKeys.plans(), queryFn: fetchPlans });
  const plan = plans.data?.find((p) => p.id === m.plan_id);
  const from = m.ends_on > today ? m.ends_on : today;
  const save = useMutation({
    mutationFn: (v: PaymentForm) => renewMembership(memberId, m.id, { method: v.method, receipt: v.receipt?.trim() || undefined }),
    onSuccess: (r) => done(t('prepaid.actions.renewed', { last: addDays(r.ends_on, -1) })),
    onError: (err) => setError(applyServerErrors(t, form, err, ['method', 'receipt'])),
  });
  return (
    <Modal
      open
      title={t('prepaid.actions.renewTitle', { plan: m.plan_name })}
      onCancel={onClose}
      okText={t('prepaid.actions.renewConfirm')}
      cancelText={t('common.cancel')}
      confirmLoading={save.isPending}
      onOk={() => form.submit()}
      okButtonProps={testAttr('prepaid-renew-submit')}
    >
      <Problem error={error} />
      <Form<PaymentForm> form={form} layout="vertical" name="renew-membership" initialValues={{ method: 'wechat' }} onFinish={(v) => save.mutate(v)}>
        <PaymentFields testId="prepaid-renew" />
      </Form>
      {plan && (
        <Descriptions size="small" column={1} bordered>
          <Descriptions.Item label={t('prepaid.plans.price')}>{money(plan.price)}</Descriptions.Item>
          <Descriptions.Item label={t('prepaid.actions.lastDayNow')}>{addDays(m.ends_on, -1)}</Descriptions.Item>
          <Descriptions.Item label={t('prepaid.actions.lastDayAfter')}>
            {addDays(periodEnd(from, plan.period_unit, plan.period_days), -1)}
          </Descriptions.Item>
        </Descriptions>
      )}
    </Modal>
  );
}

export function FreezeMembershipModal({ memberId, membership: m, onClose }: Props) {
  const { t } = useTranslation();
  const done = useDone(memberId, onClose);
  const [form] = Form.useForm<{ days: number }>();
  const [error, setError] = useState<string>();
  const days = Form.useWatch('days', form) ?? 0;
  const save = useMutation({
    mutationFn: (v: { days: number }) => freezeMembership(memberId, m.id, v.days),
    onSuccess: (r) => done(t('prepaid.actions.frozen', { last: addDays(r.ends_on, -1) })),
    onError: (err) => setError(applyServerErrors(t, form, err, ['days'])),
  });
  return (
    <Modal
      open
      title={t('prepaid.actions.freezeTitle', { plan: m.plan_name })}
      onCancel={onClose}
      okText={t('prepaid.actions.freezeConfirm')}
      cancelText={t('common.cancel')}
      confirmLoading={save.isPending}
      onOk={() => form.submit()}
      okButtonProps={testAttr('prepaid-freeze-submit')}
    >
      <Problem error={error} />
      <Typography.Paragraph type="secondary">{t('prepaid.actions.freezeHelp', { frozen: m.frozen_days })}</Typography.Paragraph>
      <Form<{ days: number }> form={form} layout="vertical" name="freeze-membership" onFinish={(v) => save.mutate(v)}>
        <Form.Item name="days" label={t('prepaid.actions.freezeDays')} rules={[{ required: true, message: t('validation.required') }]}>
          <InputNumber min={1} max={366} precision={0} style={{ width: '100%' }} data-testid="prepaid-freeze-days" />
        </Form.Item>
      </Form>
      {days > 0 && (
        <Descriptions size="small" column={1} bordered>
          <Descriptions.Item label={t('prepaid.actions.lastDayNow')}>{addDays(m.ends_on, -1)}</Descriptions.Item>
          <Descriptions.Item label={t('prepaid.actions.lastDayAfter')}>{addDays(m.ends_on, days - 1)}</Descriptions.Item>
        </Descriptions>
      )}
    </Modal>
  );
}

export function CancelMembershipModal({ memberId, membership: m, onClose }: Props) {
  const { t } = useTranslation();
  const money = useMoney();
  const today = useToday();
  const done = useDone(memberId, onClose);
  const [form] = Form.useForm<PaymentForm>();
  const [error, setError] = useState<string>();
  const refund = cancelRefund(m.paid, m.starts_on, m.ends_on, today);
  const save = useMutation({
    mutationFn: (v: PaymentForm) => cancelMembership(memberId, m.id, { method: v.method, receipt: v.receipt?.trim() || undefined }),
    onSuccess: (r) => done(t('prepaid.actions.cancelled', { refund: money(r.refund) })),
    onError: (err) => setError(applyServerErrors(t, form, err, ['method', 'receipt'])),
  });
  return (
    <Modal
      open
      title={t('prepaid.actions.cancelTitle', { plan: m.plan_name })}
      onCancel={onClose}
      okText={t('prepaid.actions.cancelConfirm')}
      cancelText={t('prepaid.actions.keep')}
      confirmLoading={save.isPending}
      onOk={() => form.submit()}
      okButtonProps={{ danger: true, ...testAttr('prepaid-cancel-submit') }}
    >
      <Problem error={error} />
      <Descriptions size="small" column={1} bordered style={{ marginBottom: 16 }}>
        <Descriptions.Item label={t('prepaid.member.paid')}>{money(m.paid)}</Descriptions.Item>
        <Descriptions.Item label={t('prepaid.actions.term')}>
          {m.starts_on} – {addDays(m.ends_on, -1)}
        </Descriptions.Item>
        <Descriptions.Item label={t('prepaid.actions.refund')}>
          <strong data-testid="prepaid-cancel-refund">{money(refund)}</strong>
        </Descriptions.Item>
      </Descriptions>
      <Alert type="warning" showIcon message={t('prepaid.actions.cancelWarning')} style={{ marginBottom: 16 }} />
      <Form<PaymentForm> form={form} layout="vertical" name="cancel-membership" initialValues={{ method: 'cash' }} onFinish={(v) => save.mutate(v)}>
        <PaymentFields testId="prepaid-cancel" />
      </Form>
    </Modal>
  );
}

type PassProps = { memberId: string; pass: MemberPass; onClose: () => void };

export function ConsumeVisitModal({ memberId, pass: p, onClose }: PassProps) {
  const { t } = useTranslation();
  const done = useDone(memberId, onClose);
  const [form] = Form.useForm<{ category?: string }>();
  const [error, setError] = useState<string>();
  const [key, setKey] = useState(() => newIdempotencyKey('visit'));
  const save = useMutation({
    mutationFn: (v: { category?: string }) => consumeVisit(memberId, p.id, { idempotency_key: key, category: v.category }),
    onSuccess: (r) => done(t('prepaid.actions.consumed', { count: r.visits_left })),
    onError: (err) => {
      if (refused(err)) setKey(newIdempotencyKey('visit'));
      setError(applyServerErrors(t, form, err, ['category']));
    },
  });
  return (
    <Modal
      open
      title={t('prepaid.actions.consumeTitle', { pass: p.product_name })}
      onCancel={onClose}
      okText={t('prepaid.actions.consumeConfirm')}
      cancelText={t('common.cancel')}
      confirmLoading={save.isPending}
      onOk={() => form.submit()}
      okButtonProps={testAttr('prepaid-consume-submit')}
    >
      <Problem error={error} />
      <Typography.Paragraph>
        {t('prepaid.actions.consumeText', { left: p.visits_left, after: Math.max(0, p.visits_left - 1) })}
      </Typography.Paragraph>
      <Form<{ category?: string }> form={form} layout="vertical" name="consume-visit" onFinish={(v) => save.mutate(v)}>
        {p.categories.length > 0 && (
          <Form.Item name="category" label={t('prepaid.actions.category')} rules={[{ required: true, message: t('validation.required') }]}>
            <Select options={p.categories.map((c) => ({ value: c, label: c }))} data-testid="prepaid-consume-category" />
          </Form.Item>
        )}
      </Form>
    </Modal>
  );
}

export function ReverseVisitModal({ memberId, pass: p, useId, onClose }: PassProps & { useId: number }) {
  const { t } = useTranslation();
  const done = useDone(memberId, onClose);
  const [form] = Form.useForm<{ reason: string }>();
  const [error, setError] = useState<string>();
  const save = useMutation({
    mutationFn: (v: { reason: string }) => reverseVisit(memberId, p.id, useId, v.reason.trim()),
    onSuccess: () => done(t('prepaid.actions.reversed')),
    onError: (err) => setError(applyServerErrors(t, form, err, ['reason'])),
  });
  return (
    <Modal
      open
      title={t('prepaid.actions.reverseTitle')}
      onCancel={onClose}
      okText={t('prepaid.actions.reverseConfirm')}
      cancelText={t('common.cancel')}
      confirmLoading={save.isPending}
      onOk={() => form.submit()}
      okButtonProps={{ danger: true, ...testAttr('prepaid-reverse-submit') }}
    >
      <Problem error={error} />
      <Form<{ reason: string }> form={form} layout="vertical" name="reverse-visit" onFinish={(v) => save.mutate(v)}>
        <Form.Item
          name="reason"
          label={t('prepaid.actions.reason')}
          rules={[{ required: true, whitespace: true, message: t('validation.required') }, { max: 200 }]}
        >
          <Input.TextArea rows={2} maxLength={200} data-testid="prepaid-reverse-reason" />
        </Form.Item>
      </Form>
    </Modal>
  );
}

export function RenewPassModal({ memberId, pass: p, onClose }: PassProps) {
  const { t } = useTranslation();
  const money = useMoney();
  const today = useToday();
  const done = useDone(memberId, onClose);
  const [form] = Form.useForm<PaymentForm>();
  const [error, setError] = useState<string>();
  const products = useQuery({ queryKey: prepaidKeys.products(), queryFn: fetchProducts });
  const product = products.data?.find((x) => x.id === p.product_id);
  const from = p.expires_on && p.expires_on >= today ? addDays(p.expires_on, 1) : today;
  const save = useMutation({
    mutationFn: (v: PaymentForm) => renewPass(memberId, p.id, { method: v.method, receipt: v.receipt?.trim() || undefined }),
    onSuccess: (r) => done(t('prepaid.actions.passRenewed', { last: r.expires_on ?? t('prepaid.member.never') })),
    onError: (err) => setError(applyServerErrors(t, form, err, ['method', 'receipt'])),
  });
  return (
    <Modal
      open
      title={t('prepaid.actions.renewPassTitle', { pass: p.product_name })}
      onCancel={onClose}
      okText={t('prepaid.actions.renewConfirm')}
      cancelText={t('common.cancel')}
      confirmLoading={save.isPending}
      onOk={() => form.submit()}
      okButtonProps={testAttr('prepaid-renew-pass-submit')}
    >
      <Problem error={error} />
      <Form<PaymentForm> form={form} layout="vertical" name="renew-pass" initialValues={{ method: 'wechat' }} onFinish={(v) => save.mutate(v)}>
        <PaymentFields testId="prepaid-renew-pass" />
      </Form>
      {product && (
        <Descriptions size="small" column={1} bordered>
          <Descriptions.Item label={t('prepaid.plans.price')}>{money(product.price)}</Descriptions.Item>
          <Descriptions.Item label={t('prepaid.member.visitsLeft')}>{p.visits_left}</Descriptions.Item>
          <Descriptions.Item label={t('prepaid.actions.lastDayAfter')}>
            {passLastDay(from, product.validity_days) ?? t('prepaid.member.never')}
          </Descriptions.Item>
        </Descriptions>
      )}
    </Modal>
  );
}

/**
 * Refunding a top-up: the principal not yet spent goes back and its unspent bonus is
 * forfeited, shown (from the server's preview) before confirming; a spend in between makes
 * the server refuse, and the preview is asked again.
 */
export function RefundTopUpModal({ memberId, topUp, onClose }: { memberId: string; topUp: TopUp; onClose: () => void }) {
  const { t } = useTranslation();
  const money = useMoney();
  const done = useDone(memberId, onClose);
  const [form] = Form.useForm<PaymentForm>();
  const [error, setError] = useState<string>();
  const preview = useQuery({
    queryKey: [...prepaidKeys.member(memberId), 'top-up-refund', topUp.id],
    queryFn: () => previewTopUpRefund(memberId, topUp.id),
    retry: false,
  });
  const save = useMutation({
    mutationFn: (v: PaymentForm) =>
      refundTopUp(memberId, topUp.id, {
        method: v.method,
        receipt: v.receipt?.trim() || undefined,
        expected_principal: preview.data?.principal,
      }),
    onSuccess: (r) => done(t('prepaid.refundTopUp.done', { amount: money(r.principal) })),
    onError: (err) => {
      if (err instanceof ApiProblem && err.code === 'top_up_refund_changed') void preview.refetch();
      setError(applyServerErrors(t, form, err, ['method', 'receipt']));
    },
  });
  const p = preview.data;
  return (
    <Modal
      open
      title={t('prepaid.refundTopUp.title')}
      onCancel={onClose}
      okText={t('prepaid.refundTopUp.confirm')}
      cancelText={t('common.cancel')}
      confirmLoading={save.isPending}
      onOk={() => form.submit()}
      okButtonProps={{ danger: true, disabled: !p, ...testAttr('prepaid-refund-top-up-submit') }}
    >
      <Problem error={error} />
      {preview.isError && <Alert type="error" showIcon message={errorText(t, preview.error)} style={{ marginBottom: 16 }} />}
      {p && (
        <Descriptions size="small" column={1} bordered style={{ marginBottom: 16 }} data-testid="prepaid-refund-top-up-preview">
          <Descriptions.Item label={t('prepaid.refundTopUp.paid')}>{money(topUp.principal)}</Descriptions.Item>
          <Descriptions.Item label={t('prepaid.refundTopUp.spent')}>{money(p.principal_spent)}</Descriptions.Item>
          <Descriptions.Item label={t('prepaid.refundTopUp.back')}>
            <strong data-testid="prepaid-refund-top-up-amount">{money(p.principal)}</strong>
          </Descriptions.Item>
          <Descriptions.Item label={t('prepaid.refundTopUp.forfeited')}>{money(p.bonus_forfeited)}</Descriptions.Item>
          <Descriptions.Item label={t('prepaid.topUp.balanceAfter')}>{money(p.balance_after.total)}</Descriptions.Item>
        </Descriptions>
      )}
      <Form<PaymentForm> form={form} layout="vertical" name="refund-top-up" initialValues={{ method: topUp.method === 'stored_value' ? 'cash' : topUp.method }} onFinish={(v) => save.mutate(v)}>
        <PaymentFields testId="prepaid-refund-top-up" />
      </Form>
    </Modal>
  );
}
