// A member's points on the member page: balance and totals, the points about to expire, the
// ledger history, the purchase history, and (for those allowed) adjust and redeem. The
// cards and dialogs are in this folder, one file each.
import { useState } from 'react';
import { Alert, Button, Card, Col, Descriptions, Row, Space, Statistic, Table, Typography } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { Schemas } from '../api/client';
import { errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { formatMoney } from '../ops/format';
import { useAuth } from '../auth/AuthContext';
import { AdjustModal } from './AdjustModal';
import { fetchPointsSummary, pointsKeys } from './api';
import { EntriesCard } from './EntriesCard';
import { PurchasesCard } from './PurchasesCard';
import { RedeemModal } from './RedeemModal';

export function MemberPoints({ memberId }: { memberId: string }) {
  const { t, i18n } = useTranslation();
  const { me, can } = useAuth();
  const tz = me?.tenant.time_zone;
  const currency = me?.tenant.currency ?? 'CNY';
  const money = (minor: number) => formatMoney(minor, currency, i18n.language);
  const [adjusting, setAdjusting] = useState(false);
  const [redeeming, setRedeeming] = useState(false);

  const summary = useQuery({
    queryKey: pointsKeys.summary(memberId),
    queryFn: () => fetchPointsSummary(memberId),
  });
  const s = summary.data;

  return (
    <div data-testid="member-points">
      <div className="page-toolbar">
        <Typography.Title level={4} style={{ margin: 0 }}>
          {t('points.member.title')}
        </Typography.Title>
        <Space wrap>
          {can('points:adjust') && (
            <Button onClick={() => setAdjusting(true)} data-testid="points-adjust">
              {t('points.adjust.open')}
            </Button>
          )}
          {can('purchases:write') && (
            <Button onClick={() => setRedeeming(true)} data-testid="points-redeem">
              {t('points.redeem.open')}
            </Button>
          )}
        </Space>
      </div>
      {summary.isError && <Alert type="error" showIcon message={errorText(t, summary.error)} style={{ marginBottom: 16 }} />}
      <Card loading={summary.isPending} size="small" style={{ marginBottom: 16 }}>
        {s && (
          <>
            <Row gutter={[16, 16]}>
              <Col xs={12} md={6}>
                <div data-testid="points-balance">
                  <Statistic title={t('points.member.balance')} value={s.balance} />
                </div>
              </Col>
              <Col xs={12} md={6}>
                <Statistic title={t('points.member.worth')} value={money(s.balance_value)} />
              </Col>
              <Col xs={12} md={6}>
                <Statistic
                  title={t('points.member.debt')}
                  value={s.debt}
                  valueStyle={s.debt > 0 ? { color: '#cf1322' } : undefined}
                />
              </Col>
              <Col xs={12} md={6}>
                <Statistic title={t('points.member.streak')} value={s.streak} />
              </Col>
            </Row>
            <Descriptions size="small" column={{ xs: 1, sm: 2, md: 3 }} style={{ marginTop: 16 }}>
              <Descriptions.Item label={t('points.member.earned')}>{s.earned_total}</Descriptions.Item>
              <Descriptions.Item label={t('points.member.redeemed')}>{s.redeemed_total}</Descriptions.Item>
              <Descriptions.Item label={t('points.member.expired')}>{s.expired_total}</Descriptions.Item>
              <Descriptions.Item label={t('points.member.spend')}>{money(s.spend_total)}</Descriptions.Item>
              <Descriptions.Item label={t('points.member.visits')}>{s.visits}</Descriptions.Item>
              <Descriptions.Item label={t('points.member.lastCheckIn')}>{s.last_check_in ?? '—'}</Descriptions.Item>
            </Descriptions>
          </>
        )}
      </Card>
      <Card
        size="small"
        title={t('points.member.expiring')}
        style={{ marginBottom: 16 }}
        extra={
          s && laterOrNever(s) > 0 ? (
            <Typography.Text type="secondary">{t('points.member.laterOrNever', { points: laterOrNever(s) })}</Typography.Text>
          ) : undefined
        }
      >
        <Table<Schemas['Expiring']>
          rowKey="expires_at"
          size="small"
          pagination={false}
          loading={summary.isPending}
          dataSource={s?.expiring ?? []}
          locale={{ emptyText: t('points.member.noExpiring') }}
          columns={[
            { title: t('points.member.points'), dataIndex: 'points' },
            {
              title: t('points.member.expiresAt'),
              dataIndex: 'expires_at',
              render: (v: string) => formatDateTime(v, i18n.language, tz),
            },
          ]}
        />
      </Card>
      <EntriesCard memberId={memberId} />
      <PurchasesCard memberId={memberId} />
      {adjusting && <AdjustModal memberId={memberId} onClose={() => setAdjusting(false)} />}
      {redeeming && (
        <RedeemModal memberId={memberId} balance={s?.balance ?? 0} onClose={() => setRedeeming(false)} />
      )}
    </div>
  );
}

/** Points of the balance not among the soonest expiries listed: later ones, or never. */
function laterOrNever(s: Schemas['PointsSummary']): number {
  const listed = s.expiring.reduce((sum, e) => sum + e.points, 0);
  return Math.max(0, s.balance - listed);
}
