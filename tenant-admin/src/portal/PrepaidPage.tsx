// My prepaid in the member portal: my memberships with their last day, my stored value
// (principal, bonus and the history) and my visit passes with the visits left. A part the
// business's plan does not include is not shown (the server leaves it out).
import { Alert, Empty, Spin, Statistic, Tag, Typography } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { yuan } from '../prepaid/money';
import { fetchPortalPrepaid, portalKeys } from './api';
import { usePortal } from './PortalRoutes';

/** The member's prepaid (shared by the page and the tab bar, which shows the tab only when there is something to show). */
export function usePortalPrepaid() {
  const { slug, token } = usePortal();
  return useQuery({
    queryKey: portalKeys.prepaid(slug, token),
    queryFn: () => fetchPortalPrepaid(slug),
    enabled: token !== null,
    staleTime: 30_000,
  });
}

const tagColor = (s: string) => (s === 'active' ? 'green' : 'default');

export function PrepaidPage() {
  const { t, i18n } = useTranslation();
  const q = usePortalPrepaid();
  if (q.isPending) return <Spin style={{ display: 'block', margin: 48 }} />;
  if (q.isError) return <Alert type="error" showIcon message={errorText(t, q.error)} />;
  const { memberships, stored_value: sv, passes } = q.data;
  return (
    <>
      <Typography.Title level={3}>{t('portal.prepaid.title')}</Typography.Title>
      {!memberships && !sv && !passes && <Empty description={t('portal.prepaid.nothing')} />}
      {memberships && (
        <section className="portal-panel" style={{ marginBottom: 16 }} data-testid="portal-memberships">
          <Typography.Title level={5} style={{ marginTop: 0 }}>
            {t('portal.prepaid.memberships')}
          </Typography.Title>
          {memberships.length === 0 && <Typography.Text type="secondary">{t('portal.prepaid.noMemberships')}</Typography.Text>}
          <ul className="portal-entries">
            {memberships.map((m, i) => (
              <li key={`${m.plan_name}-${m.starts_on}-${i}`} className="portal-entry">
                <div>
                  <div className="portal-entry-title">{m.plan_name}</div>
                  <Typography.Text type="secondary">
                    {t('portal.prepaid.validUntil', { date: m.last_day })}
                    {m.frozen_days > 0 && ` · ${t('portal.prepaid.frozen', { count: m.frozen_days })}`}
                  </Typography.Text>
                </div>
                <Tag color={tagColor(m.status)}>{t(`portal.prepaid.status.${m.status}`)}</Tag>
              </li>
            ))}
          </ul>
        </section>
      )}
      {sv && (
        <section className="portal-panel" style={{ marginBottom: 16 }} data-testid="portal-stored-value">
          <Typography.Title level={5} style={{ marginTop: 0 }}>
            {t('portal.prepaid.balance')}
          </Typography.Title>
          <div className="portal-stats">
            <div data-testid="portal-sv-total">
              <Statistic title={t('portal.prepaid.total')} value={yuan(sv.total)} />
            </div>
            <div data-testid="portal-sv-principal">
              <Statistic title={t('portal.prepaid.principal')} value={yuan(sv.principal)} />
            </div>
            <div data-testid="portal-sv-bonus">
              <Statistic title={t('portal.prepaid.bonus')} value={yuan(sv.bonus)} />
            </div>
          </div>
          <Typography.Title level={5}>{t('portal.prepaid.history')}</Typography.Title>
          {sv.entries.length === 0 && <Typography.Text type="secondary">{t('portal.prepaid.noHistory')}</Typography.Text>}
          <ul className="portal-entries">
            {sv.entries.map((e, i) => (
              <li key={`${e.at}-${e.ledger}-${i}`} className="portal-entry">
                <div>
                  <div className="portal-entry-title">
                    {t(`portal.prepaid.kind.${e.kind}`)} · {t(`portal.prepaid.${e.ledger}`)}
                  </div>
                  <Typography.Text type="secondary">
                    {`${formatDateTime(e.at, i18n.language)} · ${t('portal.prepaid.after', { balance: yuan(e.balance) })}`}
                  </Typography.Text>
                </div>
                <span className={e.amount >= 0 ? 'portal-plus' : 'portal-minus'} style={{ whiteSpace: 'nowrap' }}>{e.amount > 0 ? `+${yuan(e.amount)}` : yuan(e.amount)}</span>
              </li>
            ))}
          </ul>
        </section>
      )}
      {passes && (
        <section className="portal-panel" data-testid="portal-passes">
          <Typography.Title level={5} style={{ marginTop: 0 }}>
            {t('portal.prepaid.passes')}
          </Typography.Title>
          {passes.length === 0 && <Typography.Text type="secondary">{t('portal.prepaid.noPasses')}</Typography.Text>}
          <ul className="portal-entries">
            {passes.map((p, i) => (
              <li key={`${p.product_name}-${i}`} className="portal-entry">
                <div>
                  <div className="portal-entry-title">{p.product_name}</div>
                  <Typography.Text type="secondary">
                    {p.expires_on ? t('portal.prepaid.validUntil', { date: p.expires_on }) : t('portal.prepaid.noExpiry')}
                    {p.categories.length > 0 && ` · ${p.categories.join(', ')}`}
                  </Typography.Text>
                </div>
                <div style={{ textAlign: 'right', whiteSpace: 'nowrap' }}>
                  <div className="portal-entry-title" data-testid="portal-pass-left">
                    {t('portal.prepaid.visitsLeft', { left: p.visits_left, total: p.visits_total })}
                  </div>
                  <Tag color={tagColor(p.status)}>{t(`portal.prepaid.passStatus.${p.status}`)}</Tag>
                </div>
              </li>
            ))}
          </ul>
        </section>
      )}
    </>
  );
}
