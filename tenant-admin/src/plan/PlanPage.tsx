import { Alert, App, Button, Card, Col, Descriptions, Progress, Row, Space, Table, Tag, Typography } from 'antd';
import { CheckOutlined, CloseOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { Schemas } from '../api/client';
import { Advanced } from '../common/Advanced';
import { errorText } from '../common/forms';
import { formatDateTime, planName } from '../common/format';
import { useAuth } from '../auth/AuthContext';
import { sessionKeys } from '../auth/api';
import { changePlan, fetchInvoices, fetchMyPlan, fetchPlans, planKeys } from './api';
import { formatMoney, usagePercent } from '../ops/format';

type Usage = Schemas['UsageView'];
type Feature = Schemas['FeatureStatus'];
type Plan = Schemas['PlanView'];
type Invoice = Schemas['InvoiceView'];

export function PlanPage() {
  const { t, i18n } = useTranslation();
  const { can, me } = useAuth();
  const { message, modal } = App.useApp();
  const qc = useQueryClient();
  const mine = useQuery({ queryKey: planKeys.mine(), queryFn: fetchMyPlan });
  const catalogue = useQuery({ queryKey: planKeys.catalogue(), queryFn: fetchPlans });
  const invoices = useQuery({ queryKey: planKeys.invoices(), queryFn: fetchInvoices });
  const change = useMutation({
    mutationFn: changePlan,
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: planKeys.mine() });
      void qc.invalidateQueries({ queryKey: sessionKeys.all });
      void message.success(t('plan.changed'));
    },
    onError: (err) => void modal.error({ title: t('plan.changeFailed'), content: errorText(t, err) }),
  });

  if (mine.isError) return <Alert type="error" showIcon message={errorText(t, mine.error)} />;
  const d = mine.data;
  const tz = me?.tenant.time_zone;
  return (
    <>
      <div className="page-toolbar">
        <Typography.Title level={2}>{t('plan.title')}</Typography.Title>
      </div>
      {(d?.usage ?? [])
        .filter((u) => u.warning === 'near' || u.warning === 'reached')
        .map((u) => (
          <Alert
            key={u.limit}
            type="warning"
            showIcon
            message={t(`lang.usageWarning.${u.warning}`, {
              limit: t(`limits.${u.limit}`, { defaultValue: u.limit }),
              used: u.usage,
              allowed: u.allowed ?? '∞',
            })}
            style={{ marginBottom: 16 }}
          />
        ))}
      <Row gutter={[16, 16]}>
        <Col xs={24} lg={12}>
          <Card title={t('plan.current')} loading={mine.isPending}>
            {d && (
              <Descriptions column={1} size="small">
                <Descriptions.Item label={t('plan.name')}>
                  {planName(t, d.plan.code, d.plan.name)}
                </Descriptions.Item>
                <Descriptions.Item label={t('plan.price')}>
                  {t('plan.perMonth', { price: formatMoney(d.plan.monthly_price_minor, d.plan.currency, i18n.language) })}
                </Descriptions.Item>
                <Descriptions.Item label={t('common.status')}>
                  {t(`tenantStatus.${d.tenant.status}`, { defaultValue: d.tenant.status })}
                </Descriptions.Item>
                {d.tenant.status === 'trial' && d.tenant.trial_ends_at && (
                  <Descriptions.Item label={t('plan.trialEnds')}>
                    {formatDateTime(d.tenant.trial_ends_at, i18n.language, tz)}
                  </Descriptions.Item>
                )}
                <Descriptions.Item label={t('plan.period')}>
                  {formatDateTime(d.period_start, i18n.language, tz)} – {formatDateTime(d.period_end, i18n.language, tz)}
                </Descriptions.Item>
                <Descriptions.Item label={t('plan.apiRequests')}>{d.api_requests_this_month}</Descriptions.Item>
              </Descriptions>
            )}
          </Card>
        </Col>
        <Col xs={24} lg={12}>
          <Card title={t('plan.usage')} loading={mine.isPending}>
            {(d?.usage ?? []).map((u: Usage) => {
              const pct = usagePercent(u.usage, u.allowed);
              return (
                <div key={u.limit} style={{ marginBottom: 12 }}>
                  <Typography.Text>
                    {t(`limits.${u.limit}`, { defaultValue: u.limit })}: {u.usage} / {u.allowed ?? t('plan.unlimited')}
                  </Typography.Text>
                  {pct !== undefined && (
                    <Progress
                      percent={pct}
                      size="small"
                      status={u.warning === 'reached' ? 'exception' : 'normal'}
                      strokeColor={u.warning === 'near' ? '#faad14' : undefined}
                      aria-label={t(`limits.${u.limit}`, { defaultValue: u.limit })}
                    />
                  )}
                </div>
              );
            })}
          </Card>
        </Col>
        <Col xs={24}>
          <Card title={t('plan.features')} loading={mine.isPending}>
            <Table<Feature>
              size="small"
              rowKey="feature"
              dataSource={d?.features}
              pagination={false}
              columns={[
                { title: t('plan.feature'), dataIndex: 'feature', render: (f: string, r) => t(`features.${f}`, { defaultValue: r.description }) },
                {
                  title: t('plan.included'),
                  dataIndex: 'included',
                  align: 'center',
                  render: (v: boolean) =>
                    v ? <CheckOutlined aria-label={t('plan.yes')} style={{ color: '#52c41a' }} /> : <CloseOutlined aria-label={t('plan.no')} style={{ color: '#bfbfbf' }} />,
                },
              ]}
            />
            <Advanced testId="plan-feature-codes">
              <Typography.Paragraph type="secondary" style={{ marginBottom: 4 }}>
                {t('advanced.featureCodesHelp')}
              </Typography.Paragraph>
              <Space wrap>
                {(d?.features ?? []).map((f) => (
                  <Tag key={f.feature}>
                    {t(`features.${f.feature}`, { defaultValue: f.description })}: <code>{f.feature}</code>
                  </Tag>
                ))}
              </Space>
            </Advanced>
          </Card>
        </Col>
        <Col xs={24}>
          <Card title={t('plan.available')} loading={catalogue.isPending}>
            <Table<Plan>
              size="small"
              rowKey="code"
              dataSource={(catalogue.data ?? []).filter((p) => !p.archived)}
              pagination={false}
              scroll={{ x: 'max-content' }}
              columns={[
                { title: t('plan.name'), key: 'name', render: (_, p) => planName(t, p.code, p.name) },
                { title: t('plan.price'), key: 'price', render: (_, p) => formatMoney(p.monthly_price_minor, p.currency, i18n.language) },
                {
                  title: t('plan.features'),
                  dataIndex: 'features',
                  render: (fs: string[]) => fs.map((f) => <Tag key={f}>{t(`features.${f}`, { defaultValue: f.replace(/_/g, ' ') })}</Tag>),
                },
                {
                  title: t('common.actions'),
                  key: 'actions',
                  render: (_, p) =>
                    p.code === d?.plan.code ? (
                      <Tag color="blue">{t('plan.currentTag')}</Tag>
                    ) : (
                      can('settings:manage') && (
                        <Button
                          onClick={() =>
                            modal.confirm({
                              title: t('plan.switchConfirm', { name: planName(t, p.code, p.name) }),
                              okText: t('plan.switch'),
                              cancelText: t('common.cancel'),
                              onOk: () => change.mutateAsync(p.code),
                            })
                          }
                        >
                          {t('plan.switch')}
                        </Button>
                      )
                    ),
                },
              ]}
            />
          </Card>
        </Col>
        <Col xs={24}>
          <Card title={t('plan.invoices')} loading={invoices.isPending}>
            <Table<Invoice>
              size="small"
              rowKey="id"
              dataSource={invoices.data}
              pagination={false}
              scroll={{ x: 'max-content' }}
              locale={{ emptyText: invoices.isError ? errorText(t, invoices.error) : t('plan.noInvoices') }}
              columns={[
                {
                  title: t('plan.period'),
                  key: 'period',
                  render: (_, v) =>
                    `${formatDateTime(v.period_start, i18n.language, tz)} – ${formatDateTime(v.period_end, i18n.language, tz)}`,
                },
                { title: t('plan.name'), key: 'plan', render: (_, v) => planName(t, v.plan) },
                {
                  title: t('plan.total'),
                  key: 'total',
                  align: 'right',
                  render: (_, v) => formatMoney(v.total_minor, v.currency, i18n.language),
                },
                {
                  title: t('common.status'),
                  dataIndex: 'status',
                  render: (st: string) => <Tag>{t(`plan.invoiceStatus.${st}`, { defaultValue: st })}</Tag>,
                },
                { title: t('plan.due'), dataIndex: 'due_at', render: (v: string) => formatDateTime(v, i18n.language, tz) },
              ]}
            />
          </Card>
        </Col>
      </Row>
    </>
  );
}
