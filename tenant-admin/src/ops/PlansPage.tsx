import { useState } from 'react';
import { App, Button, Form, Input, InputNumber, Modal, Select, Space, Switch, Table, Tag, Typography } from 'antd';
import { MinusCircleOutlined, PlusOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { Schemas } from '../api/client';
import { applyServerErrors, errorText } from '../common/forms';
import { createOpsPlan, fetchOpsPlans, opsKeys, updateOpsPlan } from './api';
import { formatMoney, mapToRows, rowsToMap } from './format';

type Plan = Schemas['PlanView'];

export function OpsPlansPage() {
  const { t, i18n } = useTranslation();
  const plans = useQuery({ queryKey: opsKeys.plans(), queryFn: fetchOpsPlans });
  const [editing, setEditing] = useState<Plan | 'new'>();
  return (
    <>
      <div className="page-toolbar">
        <Typography.Title level={2}>{t('ops.plans.title')}</Typography.Title>
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')} data-testid="ops-plan-add">
          {t('ops.plans.add')}
        </Button>
      </div>
      <Table<Plan>
        rowKey="code"
        loading={plans.isPending}
        dataSource={plans.data}
        pagination={false}
        scroll={{ x: 'max-content' }}
        locale={{ emptyText: plans.isError ? errorText(t, plans.error) : undefined }}
        columns={[
          {
            title: t('common.name'),
            key: 'name',
            render: (_, p) => (
              <span>
                {p.name} <Typography.Text code>{p.code}</Typography.Text>
                {p.archived && <Tag>{t('ops.plans.archived')}</Tag>}
              </span>
            ),
          },
          {
            title: t('ops.plans.price'),
            key: 'price',
            render: (_, p) => formatMoney(p.monthly_price_minor, p.currency, i18n.language),
          },
          { title: t('ops.plans.trialDays'), dataIndex: 'trial_days' },
          {
            title: t('ops.plans.features'),
            dataIndex: 'features',
            render: (fs: string[]) => fs.map((f) => <Tag key={f}>{t(`features.${f}`, { defaultValue: f })}</Tag>),
          },
          {
            title: t('ops.plans.limits'),
            dataIndex: 'limits',
            render: (ls: Plan['limits']) =>
              ls.map((l) => (
                <Tag key={l.limit}>
                  {t(`limits.${l.limit}`, { defaultValue: l.limit })}: {l.allowed ?? '∞'}
                </Tag>
              )),
          },
          {
            title: t('common.actions'),
            key: 'actions',
            render: (_, p) => (
              <Button type="link" onClick={() => setEditing(p)}>
                {t('ops.plans.edit')}
              </Button>
            ),
          },
        ]}
      />
      {editing && <PlanEditor plan={editing === 'new' ? undefined : editing} onClose={() => setEditing(undefined)} />}
    </>
  );
}

interface PlanForm {
  code?: string;
  name: string;
  monthly_price_minor: number;
  currency: string;
  features: string[];
  limits: { key?: string; value?: number | null }[];
  overage: { key?: string; value?: number | null }[];
  trial_days: number;
  archived: boolean;
}

const FEATURES = [
  'custom_fields', 'rule_scripts', 'tiers', 'coupons', 'events', 'sms', 'campaigns',
  'api_keys', 'webhooks', 'exports', 'multi_store', 'reports_advanced', 'memberships',
  'stored_value', 'visit_passes',
];
const LIMITS = [
  'members', 'staff', 'stores', 'active_rules', 'sms_per_month', 'emails_per_month', 'storage_mb',
  'coupon_templates', 'coupons_per_month',
  'api_requests_per_minute',
];

function PlanEditor({ plan, onClose }: { plan?: Plan; onClose: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm<PlanForm>();
  const [error, setError] = useState<string>();
  const save = useMutation({
    mutationFn: (v: PlanForm) => {
      const body = {
        name: v.name,
        monthly_price_minor: v.monthly_price_minor,
        currency: v.currency,
        features: v.features,
        limits: rowsToMap(v.limits),
        overage_minor: rowsToMap(v.overage),
        trial_days: v.trial_days,
        archived: v.archived,
      };
      return plan
        ? updateOpsPlan(plan.code, body)
        : createOpsPlan({ ...body, code: v.code });
    },
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: opsKeys.all });
      void message.success(t('common.saved'));
      onClose();
    },
    onError: (err) =>
      setError(
        // Limits and overage are lists without one form item each: their problems go to
        // the message above the form, with the path.
        applyServerErrors(t, form, err, ['code', 'name', 'monthly_price_minor', 'currency', 'features', 'trial_days']),
      ),
  });
  const overage: Record<string, number> = {};
  for (const l of plan?.limits ?? []) if (l.overage_minor !== null && l.overage_minor !== undefined) overage[l.limit] = l.overage_minor;
  const limits: Record<string, number> = {};
  for (const l of plan?.limits ?? []) if (l.allowed !== null && l.allowed !== undefined) limits[l.limit] = l.allowed;
  const required = { required: true, message: t('validation.required') };
  const keyOptions = LIMITS.map((l) => ({ value: l, label: t(`limits.${l}`) }));

  const rowsEditor = (name: 'limits' | 'overage', valueLabel: string) => (
    <Form.List name={name}>
      {(fields, { add, remove }) => (
        <>
          {fields.map((f) => (
            <Space key={f.key} align="baseline" wrap>
              <Form.Item name={[f.name, 'key']} rules={[required]}>
                <Select style={{ width: 200 }} options={keyOptions} aria-label={t('ops.plans.limit')} />
              </Form.Item>
              <Form.Item name={[f.name, 'value']} rules={[required]}>
                <InputNumber min={0} placeholder={valueLabel} aria-label={valueLabel} />
              </Form.Item>
              <MinusCircleOutlined aria-label={t('common.delete')} onClick={() => remove(f.name)} />
            </Space>
          ))}
          <Button type="dashed" onClick={() => add()} icon={<PlusOutlined />}>
            {t('ops.plans.addRow')}
          </Button>
        </>
      )}
    </Form.List>
  );

  return (
    <Modal
      open
      width={640}
      title={plan ? t('ops.plans.editTitle', { name: plan.name }) : t('ops.plans.add')}
      onCancel={onClose}
      okText={t('common.save')}
      cancelText={t('common.cancel')}
      confirmLoading={save.isPending}
      onOk={() => form.submit()}
    >
      {error && <Typography.Paragraph type="danger" role="alert">{error}</Typography.Paragraph>}
      <Form<PlanForm>
        form={form}
        layout="vertical"
        name="plan"
        initialValues={{
          code: plan?.code,
          name: plan?.name,
          monthly_price_minor: plan?.monthly_price_minor ?? 0,
          currency: plan?.currency ?? 'CNY',
          features: plan?.features ?? [],
          limits: mapToRows(limits),
          overage: mapToRows(overage),
          trial_days: plan?.trial_days ?? 14,
          archived: plan?.archived ?? false,
        }}
        onFinish={(v) => {
          setError(undefined);
          save.mutate(v);
        }}
      >
        {!plan && (
          <Form.Item name="code" label={t('ops.plans.code')} extra={t('ops.plans.codeHelp')} rules={[required]}>
            <Input autoCapitalize="none" spellCheck={false} />
          </Form.Item>
        )}
        <Form.Item name="name" label={t('common.name')} rules={[required]}>
          <Input />
        </Form.Item>
        <Space wrap>
          <Form.Item name="monthly_price_minor" label={t('ops.plans.priceMinor')} rules={[required]}>
            <InputNumber min={0} />
          </Form.Item>
          <Form.Item name="currency" label={t('settings.currency')} rules={[required]}>
            <Input maxLength={3} style={{ width: 90 }} />
          </Form.Item>
          <Form.Item name="trial_days" label={t('ops.plans.trialDays')} rules={[required]}>
            <InputNumber min={0} />
          </Form.Item>
        </Space>
        <Form.Item name="features" label={t('ops.plans.features')}>
          <Select mode="multiple" options={FEATURES.map((f) => ({ value: f, label: t(`features.${f}`) }))} />
        </Form.Item>
        <Form.Item label={t('ops.plans.limits')} extra={t('ops.plans.limitsHelp')}>
          {rowsEditor('limits', t('ops.plans.allowed'))}
        </Form.Item>
        <Form.Item label={t('ops.plans.overage')} extra={t('ops.plans.overageHelp')}>
          {rowsEditor('overage', t('ops.plans.unitPrice'))}
        </Form.Item>
        <Form.Item name="archived" label={t('ops.plans.archived')} valuePropName="checked">
          <Switch />
        </Form.Item>
      </Form>
    </Modal>
  );
}
