// 我的优惠券 in the member portal: the member's usable coupons, each with its code large and
// as a QR code for the till, those used or expired below; the coupons they may claim (free
// or for points) and a box for a public code.
import { useState } from 'react';
import { Alert, App, Button, Empty, Input, Space, Spin, Tag, Typography } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { QRCodeSVG } from 'qrcode.react';
import { errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { yuan } from '../prepaid/money';
import { usePortal } from '../portal/PortalRoutes';
import { claimCoupon, fetchClaimable, fetchMyCoupons, portalCouponKeys } from './portal';
import { benefitText } from './terms';

export function PortalCouponsPage() {
  const { t, i18n } = useTranslation();
  const { slug, token } = usePortal();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [code, setCode] = useState('');
  const mine = useQuery({ queryKey: portalCouponKeys.mine(slug, token), queryFn: () => fetchMyCoupons(slug), enabled: token !== null });
  const claimable = useQuery({
    queryKey: portalCouponKeys.claimable(slug, token),
    queryFn: () => fetchClaimable(slug),
    enabled: token !== null,
  });
  const claim = useMutation({
    mutationFn: (body: { template_id?: string; code?: string }) => claimCoupon(slug, body),
    onSuccess: (r) => {
      void message.success(t('coupons.portal.claimed', { name: r.template_name }));
      setCode('');
      void qc.invalidateQueries({ queryKey: ['portal', slug] });
    },
    onError: (err) => void message.error(errorText(t, err)),
  });
  if (mine.isPending) return <Spin style={{ display: 'block', margin: 48 }} />;
  if (mine.isError) return <Alert type="error" showIcon message={errorText(t, mine.error)} />;
  const usable = mine.data.filter((c) => c.status === 'issued');
  const rest = mine.data.filter((c) => c.status !== 'issued');
  return (
    <div data-testid="portal-coupons">
      <Typography.Title level={3}>{t('coupons.portal.title')}</Typography.Title>
      {usable.length === 0 && <Empty description={t('coupons.portal.none')} />}
      {usable.map((c) => (
        <section key={c.id} className="portal-panel" style={{ marginBottom: 16, textAlign: 'center' }} data-testid="portal-coupon">
          <Typography.Title level={5} style={{ marginTop: 0 }}>
            {c.template_name}
          </Typography.Title>
          <div>{benefitText(t, yuan, c)}</div>
          <QRCodeSVG value={c.code} size={140} marginSize={2} title={t('coupons.portal.code')} style={{ margin: '12px auto', display: 'block' }} />
          <Typography.Text strong style={{ fontSize: 22, letterSpacing: 2 }} copyable data-testid="portal-coupon-code">
            {c.code}
          </Typography.Text>
          <div>
            <Typography.Text type="secondary">
              {t('coupons.portal.until', { date: formatDateTime(c.valid_until, i18n.language) })}
            </Typography.Text>
          </div>
        </section>
      ))}
      {rest.length > 0 && (
        <ul className="portal-entries">
          {rest.map((c) => (
            <li key={c.id} className="portal-entry">
              <div>
                <div className="portal-entry-title">{c.template_name}</div>
                <Typography.Text type="secondary">{c.code}</Typography.Text>
              </div>
              <Tag>{t(`coupons.status.${c.status}`)}</Tag>
            </li>
          ))}
        </ul>
      )}
      <section className="portal-panel" style={{ marginTop: 16 }} data-testid="portal-claimable">
        <Typography.Title level={5} style={{ marginTop: 0 }}>
          {t('coupons.portal.claimTitle')}
        </Typography.Title>
        {(claimable.data ?? []).length === 0 && <Typography.Text type="secondary">{t('coupons.portal.nothingToClaim')}</Typography.Text>}
        <ul className="portal-entries">
          {(claimable.data ?? []).map((c) => (
            <li key={c.template_id} className="portal-entry">
              <div>
                <div className="portal-entry-title">{c.name}</div>
                <Typography.Text type="secondary">
                  {benefitText(t, yuan, c)}
                  {c.left !== null && c.left !== undefined && ` · ${t('coupons.portal.left', { count: c.left })}`}
                </Typography.Text>
              </div>
              <Button
                type="primary"
                size="small"
                disabled={c.left === 0}
                loading={claim.isPending && claim.variables?.template_id === c.template_id}
                onClick={() => claim.mutate({ template_id: c.template_id })}
                data-testid={`portal-claim-${c.name}`}
              >
                {c.points_price > 0 ? t('coupons.portal.claimFor', { points: c.points_price }) : t('coupons.portal.claim')}
              </Button>
            </li>
          ))}
        </ul>
        <Space.Compact style={{ width: '100%', marginTop: 8 }}>
          <Input
            value={code}
            onChange={(e) => setCode(e.target.value)}
            placeholder={t('coupons.portal.codePlaceholder')}
            aria-label={t('coupons.portal.byCode')}
            maxLength={40}
          />
          <Button disabled={!code.trim()} onClick={() => claim.mutate({ code: code.trim() })}>
            {t('coupons.portal.claim')}
          </Button>
        </Space.Compact>
      </section>
    </div>
  );
}
