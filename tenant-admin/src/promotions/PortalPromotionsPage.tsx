// 优惠活动 in the member portal: the promotions running now and those coming, for everyone
// or the member's tier, each with its days and what it gives.
import { Alert, Empty, Spin, Tag, Typography } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { errorText } from '../common/forms';
import { usePortal } from '../portal/PortalRoutes';
import { givesText, periodText } from './parts';
import { fetchPortalPromotions, portalPromotionKeys } from './portal';

export function PortalPromotionsPage() {
  const { t } = useTranslation();
  const { slug, token } = usePortal();
  const q = useQuery({
    queryKey: portalPromotionKeys.list(slug, token),
    queryFn: () => fetchPortalPromotions(slug),
    enabled: token !== null,
  });
  if (q.isPending) return <Spin style={{ display: 'block', margin: 48 }} />;
  if (q.isError) return <Alert type="error" showIcon message={errorText(t, q.error)} />;
  const running = q.data.filter((p) => p.phase === 'running');
  const coming = q.data.filter((p) => p.phase !== 'running');
  const section = (title: string, list: typeof q.data, testId: string) => (
    <>
      <Typography.Title level={5}>{title}</Typography.Title>
      {list.length === 0 && <Empty description={t('promotions.portal.none')} image={Empty.PRESENTED_IMAGE_SIMPLE} />}
      {list.map((p) => (
        <section key={p.id} className="portal-panel" style={{ marginBottom: 12 }} data-testid={testId}>
          <Typography.Title level={5} style={{ marginTop: 0 }}>
            {p.name}{' '}
            <Tag color={p.phase === 'running' ? 'green' : 'blue'}>{t(`promotions.phase.${p.phase}`)}</Tag>
          </Typography.Title>
          <Typography.Text type="secondary">{periodText(p)}</Typography.Text>
          {p.description && <Typography.Paragraph style={{ marginBottom: 4 }}>{p.description}</Typography.Paragraph>}
          <ul style={{ margin: 0, paddingLeft: 20 }}>
            {givesText(t, p).map((line) => (
              <li key={line}>{line}</li>
            ))}
          </ul>
        </section>
      ))}
    </>
  );
  return (
    <div data-testid="portal-promotions">
      <Typography.Title level={3}>{t('promotions.portal.title')}</Typography.Title>
      {section(t('promotions.portal.now'), running, 'portal-promotion-running')}
      {section(t('promotions.portal.soon'), coming, 'portal-promotion-coming')}
    </div>
  );
}
