// A member at a glance, as the desk and the member page show it: name, phone, card, tags,
// balance and its value, tier and what the next one takes, last visit, and the alerts a
// clerk should notice (birthday, expiring points, debt).
import type { ReactNode } from 'react';
import { Alert, Card, Col, Descriptions, Progress, Row, Space, Statistic, Tag, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { formatMoney } from '../ops/format';
import { useAuth } from '../auth/AuthContext';
import type { MemberSummary } from './api';
import { nameIn } from '../common/format';


/** The text of one alert, with its values. */
function AlertText({ code, params }: { code: string; params: Record<string, unknown> }) {
  const { t } = useTranslation();
  return <>{t(`desk.alerts.${code}`, { ...params, defaultValue: code })}</>;
}

export function MemberSummaryCard({ summary: s, extra }: { summary: MemberSummary; extra?: ReactNode }) {
  const { t, i18n } = useTranslation();
  const { me } = useAuth();
  const currency = me?.tenant.currency ?? 'CNY';
  const money = (minor: number) => formatMoney(minor, currency, i18n.language);
  const next = s.next_tier;
  const progress = s.tier_progress ?? 0;
  const percent = next ? Math.min(100, Math.round((progress / Math.max(1, progress + next.remaining)) * 100)) : 100;
  const metricUnit = next ? t(`desk.metric.${next.metric}`, { defaultValue: next.metric }) : '';
  const remaining = next
    ? next.metric === 'spend'
      ? money(next.remaining)
      : `${next.remaining} ${metricUnit}`
    : '';
  return (
    <Card size="small" data-testid="member-summary" className="desk-summary" extra={extra}
      title={
        <Space wrap size={8}>
          <Typography.Text strong style={{ fontSize: 18 }} data-testid="summary-name">
            {s.name}
          </Typography.Text>
          {s.tier && (
            <Tag color={s.tier.color} data-testid="summary-tier">
              {nameIn(s.tier.name, i18n.language)}
            </Tag>
          )}
          {s.tags.map((tag) => (
            <Tag key={tag}>{tag}</Tag>
          ))}
        </Space>
      }
    >
      {s.alerts.length > 0 && (
        <Space direction="vertical" style={{ width: '100%', marginBottom: 12 }} data-testid="summary-alerts">
          {s.alerts.map((a) => (
            <Alert
              key={a.code}
              type={a.code === 'in_debt' ? 'error' : a.code.startsWith('birthday') ? 'success' : 'warning'}
              showIcon
              data-testid={`alert-${a.code}`}
              message={<AlertText code={a.code} params={(a.params ?? {}) as Record<string, unknown>} />}
            />
          ))}
        </Space>
      )}
      <Row gutter={[16, 12]}>
        <Col xs={12} md={6}>
          <div data-testid="summary-balance">
            <Statistic title={t('desk.summary.balance')} value={s.balance} />
          </div>
          <Typography.Text type="secondary">{t('desk.summary.worth', { value: money(s.balance_value) })}</Typography.Text>
        </Col>
        <Col xs={12} md={6}>
          <Statistic title={t('desk.summary.debt')} value={s.debt} valueStyle={s.debt > 0 ? { color: '#cf1322' } : undefined} />
        </Col>
        <Col xs={24} md={12}>
          <Typography.Text type="secondary">{t('desk.summary.tier')}</Typography.Text>
          <div>
            <Typography.Text strong>{s.tier ? nameIn(s.tier.name, i18n.language) : '—'}</Typography.Text>
          </div>
          {next ? (
            <>
              <Progress percent={percent} size="small" showInfo={false} />
              <Typography.Text type="secondary" data-testid="summary-next-tier">
                {t('desk.summary.next', { tier: nameIn(next.name, i18n.language), remaining })}
              </Typography.Text>
            </>
          ) : (
            s.tier && <Typography.Text type="secondary">{t('desk.summary.top')}</Typography.Text>
          )}
        </Col>
      </Row>
      <Descriptions size="small" column={{ xs: 1, sm: 2, md: 3 }} style={{ marginTop: 12 }}>
        <Descriptions.Item label={t('desk.summary.phone')}>
          <span className="mono" data-testid="summary-phone">{s.phone ?? '—'}</span>
        </Descriptions.Item>
        <Descriptions.Item label={t('desk.summary.card')}>
          <span className="mono">{s.card_number ?? '—'}</span>
        </Descriptions.Item>
        <Descriptions.Item label={t('desk.summary.lastVisit')}>
          <span data-testid="summary-last-visit">{s.last_visit ?? t('desk.summary.never')}</span>
        </Descriptions.Item>
        <Descriptions.Item label={t('desk.summary.expiring')}>
          {s.expiring
            ? t('desk.summary.expiringValue', { points: s.expiring.points, on: s.expiring.expires_at.slice(0, 10) })
            : '—'}
        </Descriptions.Item>
        <Descriptions.Item label={t('desk.summary.joined')}>{s.join_date}</Descriptions.Item>
        <Descriptions.Item label={t('desk.summary.birthday')}>{s.birthday ?? '—'}</Descriptions.Item>
      </Descriptions>
    </Card>
  );
}
