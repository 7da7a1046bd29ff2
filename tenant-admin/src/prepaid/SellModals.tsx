// Selling at the counter from the member's prepaid tab: a membership (the fee standard, how
// it was paid, the receipt; the price and the last day shown before confirming) and a visit
// pass (the product, the payment; the price, the visits and the last day shown first).
import { useState } from 'react';
import { App, Descriptions, Form, Modal, Select, Typography } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { applyServerErrors } from '../common/forms';
import { fetchPlans, fetchProducts, prepaidKeys, sellMembership, sellPass, type PayMethod } from './api';
import { addDays, passLastDay, periodEnd } from './money';
import { PaymentFields, useMoney, useToday } from './parts';
import { usePeriodText } from './PlansTab';

interface SaleForm {
  id: string;
  method: PayMethod;
  receipt?: string;
}

const testAttr = (id: string) => ({ 'data-testid': id }) as Record<`data-${string}`, string>;

export function SellMembershipModal({ memberId, onClose }: { memberId: string; onClose: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const money = useMoney();
  const today = useToday();
  const periodText = usePeriodText();
  const qc = useQueryClient();
  const [form] = Form.useForm<SaleForm>();
  const [error, setError] = useState<string>();
  const plans = useQuery({ queryKey: prepaidKeys.plans(), queryFn: fetchPlans });
  const chosen = Form.useWatch('id', form);
  const plan = plans.data?.find((p) => p.id === chosen);
  const save = useMutation({
    mutationFn: (v: SaleForm) => sellMembership(memberId, { plan_id: v.id, method: v.method, receipt: v.receipt?.trim() || undefined }),
    onSuccess: (m) => {
      void qc.invalidateQueries({ queryKey: prepaidKeys.member(memberId) });
      void qc.invalidateQueries({ queryKey: prepaidKeys.business() });
      void message.success(t('prepaid.sell.membershipDone', { plan: m.plan_name, last: addDays(m.ends_on, -1) }));
      onClose();
    },
    onError: (err) => setError(applyServerErrors(t, form, err, ['id', 'method', 'receipt'], { plan_id: 'id' })),
  });
  return (
    <Modal
      open
      title={t('prepaid.sell.membershipTitle')}
      onCancel={onClose}
      okText={t('prepaid.sell.confirm')}
      cancelText={t('common.cancel')}
      confirmLoading={save.isPending}
      onOk={() => form.submit()}
      okButtonProps={{ disabled: !plan, ...testAttr('prepaid-sell-membership-submit') }}
    >
      {error && (
        <Typography.Paragraph type="danger" role="alert">
          {error}
        </Typography.Paragraph>
      )}
      <Form<SaleForm> form={form} layout="vertical" name="sell-membership" initialValues={{ method: 'wechat' }} onFinish={(v) => save.mutate(v)}>
        <Form.Item name="id" label={t('prepaid.member.plan')} rules={[{ required: true, message: t('validation.required') }]}>
          <Select
            loading={plans.isPending}
            data-testid="prepaid-sell-membership-plan"
            notFoundContent={t('prepaid.plans.none')}
            options={(plans.data ?? [])
              .filter((p) => !p.archived)
              .map((p) => ({ value: p.id, label: `${p.name} · ${money(p.price)} / ${periodText(p.period_unit, p.period_days)}` }))}
          />
        </Form.Item>
        <PaymentFields testId="prepaid-sell-membership" />
      </Form>
      {plan && (
        <Descriptions size="small" column={1} bordered data-testid="prepaid-sell-membership-preview">
          <Descriptions.Item label={t('prepaid.plans.price')}>
            <span data-testid="prepaid-sell-membership-price">{money(plan.price)}</span>
          </Descriptions.Item>
          <Descriptions.Item label={t('prepaid.sell.from')}>{today}</Descriptions.Item>
          <Descriptions.Item label={t('prepaid.member.lastDay')}>
            <span data-testid="prepaid-sell-membership-last">{addDays(periodEnd(today, plan.period_unit, plan.period_days), -1)}</span>
          </Descriptions.Item>
          {plan.stored_value > 0 && (
            <Descriptions.Item label={t('prepaid.plans.storedValue')}>{money(plan.stored_value)}</Descriptions.Item>
          )}
          {plan.tier && <Descriptions.Item label={t('prepaid.plans.tier')}>{plan.tier}</Descriptions.Item>}
        </Descriptions>
      )}
    </Modal>
  );
}

export function SellPassModal({ memberId, onClose }: { memberId: string; onClose: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const money = useMoney();
  const today = useToday();
  const qc = useQueryClient();
  const [form] = Form.useForm<SaleForm>();
  const [error, setError] = useState<string>();
  const products = useQuery({ queryKey: prepaidKeys.products(), queryFn: fetchProducts });
  const chosen = Form.useWatch('id', form);
  const product = products.data?.find((p) => p.id === chosen);
  const save = useMutation({
    mutationFn: (v: SaleForm) => sellPass(memberId, { product_id: v.id, method: v.method, receipt: v.receipt?.trim() || undefined }),
    onSuccess: (p) => {
      void qc.invalidateQueries({ queryKey: prepaidKeys.member(memberId) });
      void qc.invalidateQueries({ queryKey: prepaidKeys.business() });
      void message.success(t('prepaid.sell.passDone', { pass: p.product_name, count: p.visits_left }));
      onClose();
    },
    onError: (err) => setError(applyServerErrors(t, form, err, ['id', 'method', 'receipt'], { product_id: 'id' })),
  });
  const last = product ? passLastDay(today, product.validity_days) : undefined;
  return (
    <Modal
      open
      title={t('prepaid.sell.passTitle')}
      onCancel={onClose}
      okText={t('prepaid.sell.confirm')}
      cancelText={t('common.cancel')}
      confirmLoading={save.isPending}
      onOk={() => form.submit()}
      okButtonProps={{ disabled: !product, ...testAttr('prepaid-sell-pass-submit') }}
    >
      {error && (
        <Typography.Paragraph type="danger" role="alert">
          {error}
        </Typography.Paragraph>
      )}
      <Form<SaleForm> form={form} layout="vertical" name="sell-pass" initialValues={{ method: 'wechat' }} onFinish={(v) => save.mutate(v)}>
        <Form.Item name="id" label={t('prepaid.member.pass')} rules={[{ required: true, message: t('validation.required') }]}>
          <Select
            loading={products.isPending}
            data-testid="prepaid-sell-pass-product"
            notFoundContent={t('prepaid.products.none')}
            options={(products.data ?? [])
              .filter((p) => !p.archived)
              .map((p) => ({ value: p.id, label: `${p.name} · ${t('prepaid.products.visitsText', { count: p.visits })} · ${money(p.price)}` }))}
          />
        </Form.Item>
        <PaymentFields testId="prepaid-sell-pass" />
      </Form>
      {product && (
        <Descriptions size="small" column={1} bordered data-testid="prepaid-sell-pass-preview">
          <Descriptions.Item label={t('prepaid.plans.price')}>
            <span data-testid="prepaid-sell-pass-price">{money(product.price)}</span>
          </Descriptions.Item>
          <Descriptions.Item label={t('prepaid.products.visits')}>{product.visits}</Descriptions.Item>
          <Descriptions.Item label={t('prepaid.member.expires')}>
            <span data-testid="prepaid-sell-pass-last">{last ?? t('prepaid.member.never')}</span>
          </Descriptions.Item>
          {product.categories.length > 0 && (
            <Descriptions.Item label={t('prepaid.products.categories')}>{product.categories.join(', ')}</Descriptions.Item>
          )}
        </Descriptions>
      )}
    </Modal>
  );
}
