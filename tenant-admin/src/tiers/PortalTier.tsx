// My tier in the member portal: the tier in its colour, progress to the next one, what keeps
// it, and the perks it gives.
import { Alert, Card, Progress, Space, Tag, Typography } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { errorText } from '../common/forms';
import { discountText, formatDateTime } from '../common/format';
import { formatMoney } from '../ops/format';
import { fetchPortalTier, portalKeys } from '../portal/api';
import { usePortal } from '../portal/PortalRoutes';
import { metricValue, multiplierText, nameIn, progressMessage, progressPercent } from './ladder';


export function PortalTier() {
  const { t, i18n } = useTranslation();
  const { slug, token } = usePortal();
  const lang = i18n.language;
  const q = useQuery({
    queryKey: portalKeys.tier(slug, token),
    queryFn: () => fetchPortalTier(slug),
    enabled: token !== null,
  });
  if (q.isError) return <Alert type="error" showIcon message={errorText(t, q.error)} style={{ marginTop: 16 }} />;
  const v = q.data;
  // No ladder yet: nothing to show.
  if (!q.isPending && !v?.tier) return null;
  const tier = v?.tier;
  const p = v?.progress;
  const money = (minor: number) => formatMoney(minor, p?.currency ?? 'CNY', lang);
  const msg = p ? progressMessage(p, lang, money) : undefined;
  return (
    <Card style={{ marginTop: 16 }} loading={q.isPending} data-testid="portal-tier">
      {tier && (
        <>
          <Typography.Text type="secondary">{t('tiers.portal.title')}</Typography.Text>
          <div style={{ margin: '8px 0' }}>
            <Tag color={tier.color} style={{ fontSize: 18, padding: '6px 14px' }} data-testid="portal-tier-name">
              {nameIn(tier.name, lang)}
            </Tag>
          </div>
          {p && (
            <>
              <Progress percent={progressPercent(p)} showInfo={false} strokeColor={tier.color} />
              <Typography.Paragraph style={{ marginBottom: 4 }}>
                {msg ? t(msg.key, msg.values) : t('tiers.progress.top')}
              </Typography.Paragraph>
              <Typography.Paragraph type={v?.below_since ? 'warning' : 'secondary'}>
                {v?.pin
                  ? t('tiers.portal.pinned', { until: formatDateTime(v.pin.until, lang) })
                  : v?.below_since
                    ? t('tiers.portal.keepUntil', { until: formatDateTime(v.retained_until, lang), value: metricValue(p.metric, p.keep_threshold, money) })
                    : t('tiers.member.keeps', { value: metricValue(p.metric, p.keep_threshold, money) })}
              </Typography.Paragraph>
            </>
          )}
          <Space wrap>
            {tier.benefits.multiplier !== 1000 && <Tag>{t('tiers.portal.multiplier', { m: multiplierText(tier.benefits.multiplier) })}</Tag>}
            {tier.benefits.discount_percent > 0 && <Tag>{discountText(t, lang, tier.benefits.discount_percent)}</Tag>}
            {tier.benefits.birthday_gift_points > 0 && <Tag>{t('tiers.portal.birthday', { points: tier.benefits.birthday_gift_points })}</Tag>}
            {tier.benefits.perks.map((perk, i) => (
              <Tag key={i}>{nameIn(perk, lang)}</Tag>
            ))}
          </Space>
        </>
      )}
    </Card>
  );
}
