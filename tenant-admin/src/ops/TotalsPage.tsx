import { Alert, Card, Col, Empty, Row, Statistic, Table, Typography } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { Schemas } from '../api/client';
import { errorText } from '../common/forms';
import { fetchOpsTotals, opsKeys } from './api';
import { BarChart } from './BarChart';
import { figuresNote } from './format';

type Count = Schemas['TenantCount'];

export function OpsTotalsPage() {
  const { t, i18n } = useTranslation();
  const totals = useQuery({ queryKey: opsKeys.totals(), queryFn: fetchOpsTotals });
  if (totals.isError) return <Alert type="error" showIcon message={errorText(t, totals.error)} />;
  const d = totals.data;
  const sum = (pred: (c: Count) => boolean) => (d?.tenants ?? []).filter(pred).reduce((n, c) => n + c.tenants, 0);
  const purchases = d?.purchases_per_day ?? [];
  // Members and purchases are counted by a job every few minutes: say how fresh they are.
  const note = d ? figuresNote(t, i18n.language, d.as_of, d.not_counted) : '';
  return (
    <>
      <div className="page-toolbar">
        <Typography.Title level={2}>{t('ops.totals.title')}</Typography.Title>
      </div>
      {note && (
        <Typography.Paragraph type="secondary" data-testid="ops-figures-as-of">
          {note}
        </Typography.Paragraph>
      )}
      <Row gutter={[16, 16]}>
        <Col xs={12} md={6}>
          <Card loading={totals.isPending}>
            <Statistic title={t('ops.totals.tenants')} value={sum(() => true)} />
          </Card>
        </Col>
        <Col xs={12} md={6}>
          <Card loading={totals.isPending}>
            <Statistic title={t('tenantStatus.trial')} value={sum((c) => c.status === 'trial')} />
          </Card>
        </Col>
        <Col xs={12} md={6}>
          <Card loading={totals.isPending}>
            <Statistic title={t('tenantStatus.active')} value={sum((c) => c.status === 'active')} />
          </Card>
        </Col>
        <Col xs={12} md={6}>
          <Card loading={totals.isPending}>
            <Statistic title={t('ops.totals.members')} value={d?.members ?? 0} />
          </Card>
        </Col>
        <Col xs={24} lg={12}>
          <Card title={t('ops.totals.purchases')} loading={totals.isPending}>
            {purchases.some((p) => p.count > 0) ? (
              <BarChart label={t('ops.totals.purchases')} points={purchases.map((p) => ({ x: p.day, y: p.count }))} />
            ) : (
              <Empty description={t('ops.totals.noPurchases')} />
            )}
            <Typography.Text type="secondary">
              {t('ops.totals.purchasesTotal', { count: purchases.reduce((n, p) => n + p.count, 0) })}
            </Typography.Text>
          </Card>
        </Col>
        <Col xs={24} lg={12}>
          <Card title={t('ops.totals.byPlan')} loading={totals.isPending}>
            <Table<Count>
              size="small"
              rowKey={(c) => `${c.plan}/${c.status}`}
              dataSource={d?.tenants}
              pagination={false}
              columns={[
                { title: t('ops.tenants.plan'), dataIndex: 'plan' },
                { title: t('common.status'), dataIndex: 'status', render: (s: string) => t(`tenantStatus.${s}`, { defaultValue: s }) },
                { title: t('ops.totals.tenants'), dataIndex: 'tenants', align: 'right' },
              ]}
            />
          </Card>
        </Col>
      </Row>
    </>
  );
}
