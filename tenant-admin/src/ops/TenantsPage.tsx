import { useState } from 'react';
import { App, Button, Form, Input, InputNumber, Modal, Select, Space, Table, Tag, Typography } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { Schemas } from '../api/client';
import { applyServerErrors, errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { extendTrial, fetchOpsPlans, fetchOpsTenants, opsKeys, resumeTenant, setTenantPlan, suspendTenant } from './api';

type Summary = Schemas['TenantSummary'];
type Action = { kind: 'plan' | 'suspend' | 'resume' | 'trial'; tenant: Summary };

const STATUSES = ['trial', 'active', 'past_due', 'suspended', 'closed'];
const STATUS_COLOR: Record<string, string> = { trial: 'blue', active: 'green', past_due: 'orange', suspended: 'red', closed: 'default' };

export function OpsTenantsPage() {
  const { t, i18n } = useTranslation();
  const [q, setQ] = useState('');
  const [plan, setPlan] = useState<string>();
  const [status, setStatus] = useState<string>();
  const [action, setAction] = useState<Action>();
  const plans = useQuery({ queryKey: opsKeys.plans(), queryFn: fetchOpsPlans });
  const tenants = useQuery({
    queryKey: opsKeys.tenants(q, plan, status),
    queryFn: () => fetchOpsTenants({ q: q || undefined, plan, status, limit: 200 }),
  });
  const planOptions = (plans.data ?? []).map((p) => ({ value: p.code, label: `${p.name} (${p.code})` }));

  return (
    <>
      <div className="page-toolbar">
        <Typography.Title level={2}>{t('ops.tenants.title')}</Typography.Title>
      </div>
      <Space wrap style={{ marginBottom: 16 }}>
        <Input.Search
          allowClear
          placeholder={t('ops.tenants.search')}
          aria-label={t('ops.tenants.search')}
          onSearch={setQ}
          style={{ width: 240 }}
          data-testid="ops-tenant-search"
        />
        <Select
          allowClear
          placeholder={t('ops.tenants.plan')}
          aria-label={t('ops.tenants.plan')}
          options={planOptions}
          value={plan}
          onChange={setPlan}
          style={{ width: 180 }}
        />
        <Select
          allowClear
          placeholder={t('common.status')}
          aria-label={t('common.status')}
          options={STATUSES.map((s) => ({ value: s, label: t(`tenantStatus.${s}`) }))}
          value={status}
          onChange={setStatus}
          style={{ width: 160 }}
        />
      </Space>
      <Table<Summary>
        rowKey={(r) => r.tenant.id}
        loading={tenants.isPending}
        dataSource={tenants.data}
        pagination={{ pageSize: 50, hideOnSinglePage: true }}
        scroll={{ x: 'max-content' }}
        locale={{ emptyText: tenants.isError ? errorText(t, tenants.error) : undefined }}
        columns={[
          {
            title: t('ops.tenants.tenant'),
            key: 'tenant',
            render: (_, r) => (
              <div>
                <Typography.Text strong>{r.tenant.name}</Typography.Text>
                <br />
                <Typography.Text type="secondary" code>
                  {r.tenant.slug}
                </Typography.Text>
              </div>
            ),
          },
          { title: t('ops.tenants.plan'), key: 'plan', render: (_, r) => <Tag>{r.tenant.plan}</Tag> },
          {
            title: t('common.status'),
            key: 'status',
            render: (_, r) => (
              <div>
                <Tag color={STATUS_COLOR[r.tenant.status] ?? 'default'}>
                  {t(`tenantStatus.${r.tenant.status}`, { defaultValue: r.tenant.status })}
                </Tag>
                {r.suspended_reason && (
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {t(`ops.tenants.suspendedBy.${r.suspended_reason}`, { defaultValue: r.suspended_reason })}
                  </Typography.Text>
                )}
                {r.status_note && (
                  <div>
                    <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                      {r.status_note}
                    </Typography.Text>
                  </div>
                )}
              </div>
            ),
          },
          {
            title: t('ops.tenants.usage'),
            key: 'usage',
            render: (_, r) =>
              Object.entries(r.usage ?? {}).map(([k, v]) => (
                <Tag key={k}>
                  {t(`limits.${k}`, { defaultValue: k })}: {v}
                </Tag>
              )),
          },
          {
            title: t('ops.tenants.periodEnd'),
            key: 'period_end',
            render: (_, r) =>
              r.tenant.status === 'trial' && r.tenant.trial_ends_at ? (
                <span data-testid="trial-ends">
                  {t('ops.tenants.trialEnds', { date: formatDateTime(r.tenant.trial_ends_at, i18n.language) })}
                </span>
              ) : (
                formatDateTime(r.period_end, i18n.language)
              ),
          },
          {
            title: t('common.actions'),
            key: 'actions',
            render: (_, r) => (
              <Space size={0} wrap>
                <Button type="link" onClick={() => setAction({ kind: 'plan', tenant: r })}>
                  {t('ops.tenants.changePlan')}
                </Button>
                {r.tenant.status === 'trial' && (
                  <Button type="link" onClick={() => setAction({ kind: 'trial', tenant: r })}>
                    {t('ops.tenants.extendTrial')}
                  </Button>
                )}
                {r.tenant.status === 'suspended' ? (
                  <Button type="link" onClick={() => setAction({ kind: 'resume', tenant: r })}>
                    {t('ops.tenants.resume')}
                  </Button>
                ) : (
                  r.tenant.status !== 'closed' && (
                    <Button type="link" danger onClick={() => setAction({ kind: 'suspend', tenant: r })}>
                      {t('ops.tenants.suspend')}
                    </Button>
                  )
                )}
              </Space>
            ),
          },
        ]}
      />
      {action && <ActionModal action={action} planOptions={planOptions} onClose={() => setAction(undefined)} />}
    </>
  );
}

interface ActionForm {
  plan?: string;
  reason?: string;
  days?: number;
}

function ActionModal({
  action,
  planOptions,
  onClose,
}: {
  action: Action;
  planOptions: { value: string; label: string }[];
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm<ActionForm>();
  const [error, setError] = useState<string>();
  const id = action.tenant.tenant.id;
  const run = useMutation({
    mutationFn: (v: ActionForm) => {
      switch (action.kind) {
        case 'plan':
          return setTenantPlan(id, v.plan ?? '');
        case 'suspend':
          return suspendTenant(id, v.reason ?? '');
        case 'resume':
          return resumeTenant(id);
        case 'trial':
          return extendTrial(id, v.days ?? 0);
      }
    },
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: opsKeys.all });
      void message.success(t('common.saved'));
      onClose();
    },
    onError: (err) => setError(applyServerErrors(t, form, err, ['plan', 'reason', 'days'])),
  });
  const required = { required: true, message: t('validation.required') };
  return (
    <Modal
      open
      title={`${t(`ops.tenants.${action.kind === 'plan' ? 'changePlan' : action.kind === 'trial' ? 'extendTrial' : action.kind}`)} · ${action.tenant.tenant.name}`}
      onCancel={onClose}
      okText={t('common.save')}
      cancelText={t('common.cancel')}
      okButtonProps={{ danger: action.kind === 'suspend' }}
      confirmLoading={run.isPending}
      onOk={() => form.submit()}
    >
      {error && <Typography.Paragraph type="danger" role="alert">{error}</Typography.Paragraph>}
      <Form<ActionForm>
        form={form}
        layout="vertical"
        name="ops-action"
        initialValues={{ plan: action.tenant.tenant.plan, days: 14 }}
        onFinish={(v) => {
          setError(undefined);
          run.mutate(v);
        }}
      >
        {action.kind === 'plan' && (
          <Form.Item name="plan" label={t('ops.tenants.plan')} rules={[required]}>
            <Select showSearch optionFilterProp="label" options={planOptions} data-testid="ops-plan-select" />
          </Form.Item>
        )}
        {action.kind === 'suspend' && (
          <Form.Item name="reason" label={t('ops.tenants.reason')} extra={t('ops.tenants.reasonHelp')} rules={[required]}>
            <Input.TextArea rows={3} />
          </Form.Item>
        )}
        {action.kind === 'trial' && (
          <Form.Item name="days" label={t('ops.tenants.days')} rules={[required]}>
            <InputNumber min={1} max={90} />
          </Form.Item>
        )}
        {action.kind === 'resume' && <Typography.Paragraph>{t('ops.tenants.resumeConfirm')}</Typography.Paragraph>}
      </Form>
    </Modal>
  );
}
