import { useEffect, useRef } from 'react';
import { Alert, App, Button, Empty, Spin, Statistic, Typography } from 'antd';
import type { CSSProperties, ReactNode } from 'react';
import { CheckCircleOutlined, ClockCircleOutlined, EnvironmentOutlined } from '@ant-design/icons';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { reasonText } from '../common/reasons';
import { QRCodeSVG } from 'qrcode.react';
import JsBarcode from 'jsbarcode';
import { errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { ApiProblem } from '../api/errors';
import { fetchMyCode, fetchPortalEntries, fetchPortalPoints, portalCheckIn, portalKeys } from './api';
import { formatPhone } from './phone';
import { usePortal, usePortalForm, usePortalMe } from './PortalRoutes';
import { PortalTier } from '../tiers/PortalTier';

function usePoints() {
  const { slug, token } = usePortal();
  return useQuery({
    queryKey: portalKeys.points(slug, token),
    queryFn: () => fetchPortalPoints(slug),
    enabled: token !== null,
  });
}

function Barcode({ value }: { value: string }) {
  const ref = useRef<SVGSVGElement>(null);
  useEffect(() => {
    if (!ref.current) return;
    try {
      JsBarcode(ref.current, value, { format: 'CODE128', width: 2, height: 64, displayValue: false, margin: 0 });
    } catch {
      // A value the symbology cannot encode: the number is shown as text anyway.
    }
  }, [value]);
  return <svg ref={ref} className="portal-barcode" role="img" aria-label={value} data-testid="portal-barcode" />;
}

/** The business: logo, name, address and opening hours, as it set them. */
export function BusinessCard() {
  const { slug } = usePortal();
  const { t } = useTranslation();
  const form = usePortalForm(slug);
  const f = form.data;
  if (!f || (!f.logo_url && !f.address && !f.opening_hours)) return null;
  return (
    <Card className="portal-business-card" data-testid="portal-business-card">
      <div className="portal-business-head">
        {f.logo_url && <img src={f.logo_url} alt={t('portal.home.logo', { name: f.business })} className="portal-logo" data-testid="portal-logo" />}
        <Typography.Title level={4} style={{ margin: 0 }}>{f.business}</Typography.Title>
      </div>
      {f.address && (
        <Typography.Paragraph style={{ margin: '8px 0 0' }} data-testid="portal-address">
          <EnvironmentOutlined aria-label={t('portal.home.address')} /> {f.address}
        </Typography.Paragraph>
      )}
      {f.opening_hours && (
        <Typography.Paragraph style={{ margin: '4px 0 0', whiteSpace: 'pre-line' }} data-testid="portal-hours">
          <ClockCircleOutlined aria-label={t('portal.home.hours')} /> {f.opening_hours}
        </Typography.Paragraph>
      )}
    </Card>
  );
}

/**
 * The member code staff scan: a code that changes every minute (`GET /me/code`), as QR and
 * barcode. Where the server has no such code (404), the card number stands in.
 */
function MemberCodeCard({ card }: { card: string | null | undefined }) {
  const { t } = useTranslation();
  const { slug, token } = usePortal();
  const code = useQuery({
    queryKey: portalKeys.code(slug, token),
    queryFn: () => fetchMyCode(slug),
    enabled: token !== null,
    retry: (n, err) => !(err instanceof ApiProblem && err.status === 404) && n < 2,
    refetchInterval: (q) => (q.state.error ? false : Math.max(5, q.state.data?.refresh_in ?? 60) * 1000),
    refetchIntervalInBackground: false,
  });
  const dynamic = code.data?.code;
  const fallback = code.error instanceof ApiProblem && code.error.status === 404;
  const value = dynamic ?? (fallback || code.isError ? card : undefined);
  return (
    <Card className="portal-member-card" data-testid="portal-code-card">
      <Typography.Text type="secondary">{t('portal.card.number')}</Typography.Text>
      <div className="portal-card-number" data-testid="portal-card-number">{card ?? '—'}</div>
      {code.isPending && token ? (
        <Spin style={{ display: 'block', margin: 24 }} />
      ) : value ? (
        <>
          <div className="portal-codes">
            <QRCodeSVG value={value} size={160} marginSize={2} title={t('portal.card.qr')} data-testid="portal-qr" />
            <Barcode value={value} />
          </div>
          <Typography.Text type="secondary" className="portal-code-note" data-testid="portal-code-note">
            {dynamic ? t('portal.card.dynamic') : t('portal.card.static')}
          </Typography.Text>
        </>
      ) : null}
    </Card>
  );
}

/** My card: the business, the member code, the balance and (when offered) the daily check-in. */
export function CardPage() {
  const { t } = useTranslation();
  const { slug } = usePortal();
  const qc = useQueryClient();
  const { message } = App.useApp();
  const me = usePortalMe();
  const form = usePortalForm(slug);
  const points = usePoints();
  const checkIn = useMutation({
    mutationFn: () => portalCheckIn(slug),
    onSuccess: (r) => {
      void qc.invalidateQueries({ queryKey: portalKeys.allPoints(slug) });
      void qc.invalidateQueries({ queryKey: portalKeys.allEntries(slug) });
      void message.success(r.already ? t('portal.checkIn.already') : t('portal.checkIn.done', { points: r.points, streak: r.streak }));
    },
    onError: (err) => void message.error(errorText(t, err)),
  });

  if (me.isPending) return <Spin style={{ display: 'block', margin: 48 }} />;
  if (me.isError) return <Alert type="error" showIcon message={errorText(t, me.error)} />;
  return (
    <>
      <Typography.Title level={3} style={{ marginBottom: 4 }}>{t('portal.card.hello', { name: me.data.name })}</Typography.Title>
      {me.data.phone && (
        <Typography.Paragraph type="secondary" data-testid="portal-phone">{formatPhone(me.data.phone)}</Typography.Paragraph>
      )}
      <BusinessCard />
      <MemberCodeCard card={me.data.card_number} />
      <Card style={{ marginTop: 16 }}>
        {points.isError ? (
          <Alert type="error" showIcon message={errorText(t, points.error)} />
        ) : (
          <Statistic title={t('portal.points.balance')} value={points.data?.balance ?? '—'} loading={points.isPending} valueStyle={{ fontSize: 32 }} data-testid="portal-balance" />
        )}
        {form.data?.check_ins && (
          <Button type="primary" size="large" block icon={<CheckCircleOutlined />} style={{ marginTop: 16 }} loading={checkIn.isPending} onClick={() => checkIn.mutate()} data-testid="portal-check-in">
            {t('portal.checkIn.button')}
          </Button>
        )}
      </Card>
      <PortalTier />
    </>
  );
}

/** My points: balance, totals, expiries and the history, newest first. */
export function PointsPage() {
  const { t, i18n } = useTranslation();
  const { slug, token } = usePortal();
  const points = usePoints();
  const entries = useInfiniteQuery({
    queryKey: portalKeys.entries(slug, token),
    initialPageParam: undefined as number | undefined,
    queryFn: ({ pageParam }) =>
      fetchPortalEntries(slug, pageParam),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const rows = entries.data?.pages.flatMap((p) => p.items) ?? [];
  const p = points.data;
  return (
    <>
      <Typography.Title level={3}>{t('portal.points.title')}</Typography.Title>
      {points.isError && <Alert type="error" showIcon message={errorText(t, points.error)} style={{ marginBottom: 16 }} />}
      <Card>
        {points.isPending && <Spin />}
        <div className="portal-stats">
          <Statistic title={t('portal.points.balance')} value={p?.balance ?? 0} data-testid="portal-points-balance" />
          <Statistic title={t('portal.points.earned')} value={p?.earned_total ?? 0} />
          <Statistic title={t('portal.points.redeemed')} value={p?.redeemed_total ?? 0} />
        </div>
        {p && p.expiring.length > 0 && (
          <Typography.Paragraph type="secondary" style={{ marginTop: 12, marginBottom: 0 }}>
            {p.expiring.map((e) => (
              <span key={e.expires_at} style={{ display: 'block' }}>
                {t('portal.points.expiring', { points: e.points, date: formatDateTime(e.expires_at, i18n.language) })}
              </span>
            ))}
          </Typography.Paragraph>
        )}
      </Card>
      <Typography.Title level={4} style={{ marginTop: 24 }}>{t('portal.points.history')}</Typography.Title>
      {entries.isError && <Alert type="error" showIcon message={errorText(t, entries.error)} />}
      {entries.isPending && <Spin />}
      {entries.isSuccess && rows.length === 0 && <Empty description={t('portal.points.none')} />}
      <ul className="portal-entries" data-testid="portal-entries">
        {rows.map((e) => (
          <li key={e.id} className="portal-entry">
            <div>
              <div className="portal-entry-title">{reasonText(t, e.reason, e.reason_code, e.reason_params as Record<string, unknown> | null | undefined, {
                  lang: i18n.language,
                }) || t(`portal.points.sources.${e.source}`, { defaultValue: e.source })}</div>
              <Typography.Text type="secondary">
                {`${formatDateTime(e.at, i18n.language)} · ${t('portal.points.after', { balance: e.balance })}`}
              </Typography.Text>
            </div>
            <span className={e.points >= 0 ? 'portal-plus' : 'portal-minus'}>{e.points > 0 ? `+${e.points}` : e.points}</span>
          </li>
        ))}
      </ul>
      {entries.hasNextPage && (
        <Button block onClick={() => void entries.fetchNextPage()} loading={entries.isFetchingNextPage}>
          {t('portal.points.more')}
        </Button>
      )}
    </>
  );
}

/** A plain card (antd's Card brings tabs and menus the portal never shows). */
function Card({ children, className, style, ...rest }: { children: ReactNode; className?: string; style?: CSSProperties; 'data-testid'?: string }) {
  return (
    <div className={`portal-panel ${className ?? ''}`} style={style} data-testid={rest['data-testid']}>
      {children}
    </div>
  );
}
