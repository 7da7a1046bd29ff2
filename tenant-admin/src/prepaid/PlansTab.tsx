// 会员收费: the business's fee standards (name, price, period and what each includes) and
// the form that creates one.
import { useState } from 'react';
import { App, Button, Form, Input, InputNumber, Modal, Select, Space, Table, Tag, Typography } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { applyServerErrors, errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { useAuth } from '../auth/AuthContext';
import { createPlan, fetchPlans, fetchProducts, PERIODS, prepaidKeys, setPlanArchived, type MembershipPlan, type PeriodUnit } from './api';
import { toMinor } from './money';
import { ArchiveToggle, missingFeature, PlanMissing, useMoney } from './parts';

/** A period as people say it: 1 month, 1 quarter, 1 year, 45 days. */
export function usePeriodText(): (unit: string, days?: number | null) => string {
  const { t } = useTranslation();
  return (unit, days) => t(`prepaid.period.${unit}`, { count: days ?? 0 });
}

export function PlansTab() {
  const { t, i18n } = useTranslation();
  const { me, can } = useAuth();
  const money = useMoney();
  const periodText = usePeriodText();
  const [creating, setCreating] = useState(false);
  const plans = useQuery({ queryKey: prepaidKeys.plans(), queryFn: fetchPlans, retry: false });
  const products = useQuery({ queryKey: prepaidKeys.products(), queryFn: fetchProducts, retry: false });
  if (missingFeature(plans.error)) return <PlanMissing feature="memberships" />;
  const productName = (id?: string | null) => products.data?.find((p) => p.id === id)?.name ?? t('prepaid.plans.aPass');
  return (
    <div data-testid="prepaid-plans">
      <div className="page-toolbar">
        <Typography.Paragraph type="secondary" style={{ margin: 0 }}>
          {t('prepaid.plans.help')}
        </Typography.Paragraph>
        {can('settings:manage') && (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)} data-testid="prepaid-plan-new">
            {t('prepaid.plans.new')}
          </Button>
        )}
      </div>
      <Table<MembershipPlan>
        size="small"
        rowKey="id"
        loading={plans.isPending}
        pagination={false}
        scroll={{ x: 720 }}
        dataSource={plans.data ?? []}
        locale={{ emptyText: plans.isError ? errorText(t, plans.error) : t('prepaid.plans.none') }}
        columns={[
          { title: t('prepaid.plans.name'), dataIndex: 'name' },
          { title: t('prepaid.plans.price'), dataIndex: 'price', render: (v: number) => money(v), align: 'right' },
          { title: t('prepaid.plans.period'), key: 'period', render: (_, p) => periodText(p.period_unit, p.period_days) },
          {
            title: t('prepaid.plans.includes'),
            key: 'includes',
            render: (_, p) => (
              <Space wrap size={4}>
                {p.tier && <Tag color="gold">{t('prepaid.plans.tierTag', { tier: p.tier })}</Tag>}
                {p.pass_product_id && <Tag color="blue">{productName(p.pass_product_id)}</Tag>}
                {p.stored_value > 0 && <Tag color="green">{t('prepaid.plans.svTag', { amount: money(p.stored_value) })}</Tag>}
                {!p.tier && !p.pass_product_id && p.stored_value <= 0 && '—'}
              </Space>
            ),
          },
          {
            title: t('prepaid.plans.created'),
            dataIndex: 'created_at',
            render: (v: string) => formatDateTime(v, i18n.language, me?.tenant.time_zone),
          },
          {
            title: t('prepaid.archive.column'),
            key: 'archived',
            render: (_, p) => (
              <ArchiveToggle
                name={p.name}
                archived={p.archived}
                toggle={(a) => setPlanArchived(p.id, a)}
                queryKey={prepaidKeys.plans()}
                testId={`prepaid-plan-archive-${p.name}`}
              />
            ),
          },
        ]}
      />
      {creating && (
        <NewPlanModal
          products={missingFeature(products.error) ? undefined : products.data}
          onClose={() => setCreating(false)}
        />
      )}
    </div>
  );
}

interface PlanForm {
  name: string;
  price: number;
  period_unit: PeriodUnit;
  period_days?: number;
  tier?: string;
  pass_product_id?: string;
  stored_value?: number;
}

function NewPlanModal({ products, onClose }: { products?: { id: string; name: string }[]; onClose: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm<PlanForm>();
  const [error, setError] = useState<string>();
  const unit = Form.useWatch('period_unit', form);
  const save = useMutation({
    mutationFn: (v: PlanForm) =>
      createPlan({
        name: v.name.trim(),
        price: toMinor(v.price),
        period_unit: v.period_unit,
        period_days: v.period_unit === 'days' ? v.period_days : undefined,
        tier: v.tier?.trim() || undefined,
        pass_product_id: v.pass_product_id || undefined,
        stored_value: toMinor(v.stored_value),
      }),
    onSuccess: (p) => {
      void qc.invalidateQueries({ queryKey: prepaidKeys.plans() });
      void message.success(t('prepaid.plans.done', { name: p.name }));
      onClose();
    },
    onError: (err) =>
      setError(
        applyServerErrors(t, form, err, ['name', 'price', 'period_unit', 'period_days', 'tier', 'pass_product_id', 'stored_value']),
      ),
  });
  const required = { required: true, message: t('validation.required') };
  return (
    <Modal
      open
      title={t('prepaid.plans.new')}
      onCancel={onClose}
      okText={t('prepaid.plans.create')}
      cancelText={t('common.cancel')}
      confirmLoading={save.isPending}
      onOk={() => form.submit()}
      okButtonProps={{ ...({ 'data-testid': 'prepaid-plan-submit' } as Record<`data-${string}`, string>) }}
      width={520}
    >
      {error && (
        <Typography.Paragraph type="danger" role="alert">
          {error}
        </Typography.Paragraph>
      )}
      <Form<PlanForm>
        form={form}
        layout="vertical"
        name="membership-plan"
        initialValues={{ period_unit: 'month' }}
        onFinish={(v) => {
          setError(undefined);
          save.mutate(v);
        }}
      >
        <Form.Item name="name" label={t('prepaid.plans.name')} rules={[required, { max: 100 }]}>
          <Input maxLength={100} placeholder={t('prepaid.plans.namePlaceholder')} data-testid="prepaid-plan-name" />
        </Form.Item>
        <Form.Item name="price" label={t('prepaid.plans.priceYuan')} rules={[required]}>
          <InputNumber min={0} precision={2} prefix="¥" style={{ width: '100%' }} data-testid="prepaid-plan-price" />
        </Form.Item>
        <Space.Compact block>
          <Form.Item name="period_unit" label={t('prepaid.plans.period')} rules={[required]} style={{ flex: 1 }}>
            <Select
              data-testid="prepaid-plan-period"
              options={PERIODS.map((p) => ({ value: p, label: t(`prepaid.periodUnit.${p}`) }))}
            />
          </Form.Item>
          {unit === 'days' && (
            <Form.Item name="period_days" label={t('prepaid.plans.periodDays')} rules={[required]} style={{ flex: 1 }}>
              <InputNumber min={1} max={3660} precision={0} style={{ width: '100%' }} data-testid="prepaid-plan-days" />
            </Form.Item>
          )}
        </Space.Compact>
        <Typography.Text strong>{t('prepaid.plans.includes')}</Typography.Text>
        <Form.Item name="tier" label={t('prepaid.plans.tier')} extra={t('prepaid.plans.tierHelp')}>
          <Input maxLength={50} />
        </Form.Item>
        {products && (
          <Form.Item name="pass_product_id" label={t('prepaid.plans.pass')}>
            <Select
              allowClear
              data-testid="prepaid-plan-pass"
              options={products.map((p) => ({ value: p.id, label: p.name }))}
            />
          </Form.Item>
        )}
        <Form.Item name="stored_value" label={t('prepaid.plans.storedValue')} extra={t('prepaid.plans.storedValueHelp')}>
          <InputNumber min={0} precision={2} prefix="¥" style={{ width: '100%' }} data-testid="prepaid-plan-sv" />
        </Form.Item>
      </Form>
    </Modal>
  );
}
