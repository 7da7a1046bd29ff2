// The business at a glance: today's registrations, points issued and redeemed, purchases and
// active members, and the last 30 days as a line chart, in the business's time zone.
import { useMemo } from 'react';
import { Alert, Card, Col, Row, Statistic, Typography } from 'antd';
import { ArrowDownOutlined, ArrowUpOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { errorText } from '../common/forms';
import { formatMoney } from '../ops/format';
import { useAuth } from '../auth/AuthContext';
import { dashboardKeys, fetchDashboard } from './api';
import { EChart } from '../tiers/EChart';
import { change, lineSeries, SERIES, type SeriesKey } from './series';

const COLOURS: Record<SeriesKey, string> = {
  registrations: '#1677ff',
  points_issued: '#52c41a',
  points_redeemed: '#fa8c16',
};

export function DashboardPage() {
  const { t, i18n } = useTranslation();
  const { me } = useAuth();
  const q = useQuery({
    queryKey: dashboardKeys.overview(),
    queryFn: fetchDashboard,
    refetchInterval: 60_000,
  });
  const d = q.data;
  const s = useMemo(() => lineSeries(d?.days ?? []), [d]);
  const money = (minor: number) => formatMoney(minor, me?.tenant.currency ?? 'CNY', i18n.language);

  const stat = (key: SeriesKey) => {
    const c = d ? change(d.days, key) : undefined;
    return (
      <Col xs={12} md={6} key={key}>
        <Card size="small" loading={q.isPending} data-testid={`dashboard-${key}`}>
          <Statistic
            title={t(`dashboard.today.${key}`)}
            value={d?.today[key] ?? 0}
            suffix={
              c === undefined ? undefined : (
                <Typography.Text type={c >= 0 ? 'success' : 'danger'} style={{ fontSize: 12 }}>
                  {c >= 0 ? <ArrowUpOutlined /> : <ArrowDownOutlined />}
                  {t('dashboard.vsYesterday', { percent: Math.abs(c) })}
                </Typography.Text>
              )
            }
          />
        </Card>
      </Col>
    );
  };

  return (
    <div data-testid="dashboard-page">
      <div className="page-toolbar">
        <Typography.Title level={2} style={{ margin: 0 }}>
          {t('dashboard.title')}
        </Typography.Title>
      </div>
      {q.isError && <Alert type="error" showIcon message={errorText(t, q.error)} style={{ marginBottom: 16 }} />}
      <Row gutter={[16, 16]} style={{ marginBottom: 16 }}>
        {SERIES.map(stat)}
        <Col xs={12} md={6}>
          <Card size="small" loading={q.isPending} data-testid="dashboard-active">
            <Statistic
              title={t('dashboard.active')}
              value={d?.active_members ?? 0}
              suffix={d ? <Typography.Text type="secondary" style={{ fontSize: 12 }}>{t('dashboard.ofMembers', { members: d.members })}</Typography.Text> : undefined}
            />
          </Card>
        </Col>
        <Col xs={12} md={6}>
          <Card size="small" loading={q.isPending}>
            <Statistic title={t('dashboard.today.purchases')} value={d?.today.purchases ?? 0} />
          </Card>
        </Col>
        <Col xs={12} md={6}>
          <Card size="small" loading={q.isPending}>
            <Statistic title={t('dashboard.today.spend')} value={money(d?.today.spend ?? 0)} />
          </Card>
        </Col>
      </Row>
      <Card size="small" title={t('dashboard.chart')} loading={q.isPending}>
        <EChart
          testId="dashboard-chart"
          label={t('dashboard.chart')}
          height={320}
          option={{
            tooltip: { trigger: 'axis' },
            legend: { top: 0, data: SERIES.map((k) => t(`dashboard.series.${k}`)) },
            grid: { left: 48, right: 48, bottom: 32, top: 56 },
            xAxis: { type: 'category', data: s.x, boundaryGap: false },
            yAxis: [
              { type: 'value', name: t('dashboard.axis.points'), minInterval: 1 },
              { type: 'value', name: t('dashboard.axis.members'), minInterval: 1, splitLine: { show: false } },
            ],
            series: SERIES.map((k) => ({
              name: t(`dashboard.series.${k}`),
              type: 'line',
              smooth: true,
              yAxisIndex: k === 'registrations' ? 1 : 0,
              data: s.lines[k],
              itemStyle: { color: COLOURS[k] },
            })),
          }}
        />
      </Card>
    </div>
  );
}
