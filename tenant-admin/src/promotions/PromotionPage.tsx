// One promotion: its days, audience and what it gives, and its results: members reached,
// their purchases and sales during it, the points it added, its coupons issued and used.
import { Alert, Button, Card, Col, Descriptions, Row, Spin, Statistic, Typography } from 'antd';
import { ArrowLeftOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { useMoney } from '../prepaid/parts';
import { fetchPromotion, promotionKeys } from './api';
import { givesText, periodText, PhaseTag } from './parts';
import { useTierNames } from './PromotionModal';

export function PromotionPage() {
  const { id = '' } = useParams();
  const { t, i18n } = useTranslation();
  const money = useMoney();
  const tiers = useTierNames();
  const q = useQuery({ queryKey: promotionKeys.one(id), queryFn: () => fetchPromotion(id) });
  if (q.isPending) return <Spin style={{ display: 'block', margin: 48 }} />;
  if (q.isError) return <Alert type="error" showIcon message={errorText(t, q.error)} />;
  const p = q.data;
  const r = p.results;
  const tierName = (code: string) => tiers.find((x) => x.code === code)?.name ?? code;
  const stats: [string, string | number, string][] = [
    ['members', r?.members ?? 0, 'promotion-result-members'],
    ['purchases', r?.purchases ?? 0, 'promotion-result-purchases'],
    ['sales', money(r?.sales ?? 0), 'promotion-result-sales'],
    ['points', r?.points ?? 0, 'promotion-result-points'],
    ['couponsIssued', r?.coupons_issued ?? 0, 'promotion-result-coupons-issued'],
    ['couponsUsed', r?.coupons_used ?? 0, 'promotion-result-coupons-used'],
  ];
  return (
    <div data-testid="promotion-page">
      <Link to="/promotions">
        <Button type="link" icon={<ArrowLeftOutlined />} style={{ paddingLeft: 0 }}>
          {t('promotions.back')}
        </Button>
      </Link>
      <Typography.Title level={3}>
        {p.name} <PhaseTag phase={p.phase} />
      </Typography.Title>
      {p.description && <Typography.Paragraph>{p.description}</Typography.Paragraph>}
      <Row gutter={[16, 16]} style={{ marginBottom: 16 }}>
        {stats.map(([k, v, testId]) => (
          <Col key={k} xs={12} sm={8} lg={4}>
            <Card size="small">
              <Statistic title={t(`promotions.results.${k}`)} value={v} valueRender={(n) => <span data-testid={testId}>{n}</span>} />
            </Card>
          </Col>
        ))}
      </Row>
      <Descriptions bordered size="small" column={1}>
        <Descriptions.Item label={t('promotions.period')}>
          {periodText(p)} ({p.time_zone})
        </Descriptions.Item>
        <Descriptions.Item label={t('promotions.audience')}>
          {p.tiers.length ? p.tiers.map(tierName).join(', ') : t('promotions.everyone')}
        </Descriptions.Item>
        <Descriptions.Item label={t('promotions.gives.title')}>
          {givesText(t, p).map((line) => (
            <div key={line}>{line}</div>
          ))}
        </Descriptions.Item>
        {p.published_at && (
          <Descriptions.Item label={t('promotions.publishedAt')}>{formatDateTime(p.published_at, i18n.language)}</Descriptions.Item>
        )}
        {p.stopped_at && (
          <Descriptions.Item label={t('promotions.stoppedAt')}>{formatDateTime(p.stopped_at, i18n.language)}</Descriptions.Item>
        )}
      </Descriptions>
    </div>
  );
}
