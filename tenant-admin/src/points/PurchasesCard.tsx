// A member's purchases on the member page: totals, then a page at a time (newest first),
// each with the points it earned and why.
import { Card, Descriptions, Table, Tag, Typography } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { Schemas } from '../api/client';
import { errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { formatMoney } from '../ops/format';
import { useAuth } from '../auth/AuthContext';
import { fetchPurchases, pointsKeys } from './api';
import { useCursorPages } from './cursor';
import { Pager } from './Pager';
import { purchaseReasons } from './reasons';
import { reasonText } from '../common/reasons';

type Purchase = Schemas['PurchaseView'];

const PAGE = 20;

export function PurchasesCard({ memberId }: { memberId: string }) {
  const { t, i18n } = useTranslation();
  const { me } = useAuth();
  const tz = me?.tenant.time_zone;
  const pages = useCursorPages<string>();
  const purchases = useQuery({
    queryKey: pointsKeys.purchases(memberId, pages.cursor),
    queryFn: () => fetchPurchases(memberId, { limit: PAGE, before: pages.cursor }),
  });
  const d = purchases.data;
  const currency = me?.tenant.currency ?? 'CNY';
  const next = d?.next_cursor;
  return (
    <Card size="small" title={t('points.purchases.title')} style={{ marginBottom: 16 }}>
      {d && (
        <Descriptions size="small" column={{ xs: 1, sm: 2, md: 4 }} style={{ marginBottom: 12 }}>
          <Descriptions.Item label={t('points.purchases.count')}>{d.total_count}</Descriptions.Item>
          <Descriptions.Item label={t('points.purchases.amount')}>
            {formatMoney(d.total_amount, currency, i18n.language)}
          </Descriptions.Item>
          <Descriptions.Item label={t('points.purchases.refunded')}>
            {formatMoney(d.total_refunded, currency, i18n.language)}
          </Descriptions.Item>
          <Descriptions.Item label={t('points.purchases.points')}>{d.total_points}</Descriptions.Item>
        </Descriptions>
      )}
      <Table<Purchase>
        rowKey="id"
        size="small"
        data-testid="member-purchases"
        loading={purchases.isPending}
        dataSource={d?.items}
        pagination={false}
        scroll={{ x: 'max-content' }}
        locale={{ emptyText: purchases.isError ? errorText(t, purchases.error) : t('points.purchases.none') }}
        expandable={{
          rowExpandable: (p) => purchaseReasons(p.reasons).length > 0 || Boolean(p.rule_error),
          expandedRowRender: (p) => (
            <>
              {purchaseReasons(p.reasons).map((r, i) => (
                <div key={i}>
                  {r.line !== undefined && r.line !== null ? `#${r.line + 1} ` : ''}
                  {reasonText(t, r.reason, r.reason_code, r.reason_params as Record<string, unknown> | null | undefined, {
                    currency,
                    lang: i18n.language,
                  })}
                  : {r.points}
                </div>
              ))}
              {Boolean(p.rule_error) && (
                <Typography.Text type="danger">
                  {t('points.purchases.ruleError')}: {ruleErrorText(p.rule_error)}
                </Typography.Text>
              )}
            </>
          ),
        }}
        columns={[
          {
            title: t('points.purchases.occurredAt'),
            dataIndex: 'occurred_at',
            render: (v: string) => formatDateTime(v, i18n.language, tz),
          },
          { title: t('points.purchases.externalId'), dataIndex: 'external_id' },
          {
            title: t('points.purchases.amount'),
            key: 'amount',
            align: 'right',
            render: (_, p) => formatMoney(p.amount, p.currency, i18n.language),
          },
          { title: t('points.purchases.store'), dataIndex: 'store' },
          {
            title: t('points.purchases.pointsEarned'),
            key: 'points',
            align: 'right',
            render: (_, p) => (
              <>
                {p.points}
                {p.rule_error ? (
                  <Tag color="red" style={{ marginLeft: 8 }}>
                    {t('points.purchases.ruleError')}
                  </Tag>
                ) : null}
              </>
            ),
          },
          {
            title: t('points.purchases.refunded'),
            key: 'refunded',
            align: 'right',
            render: (_, p) =>
              p.refunded > 0 ? `${formatMoney(p.refunded, p.currency, i18n.language)} (−${p.points_reversed})` : '—',
          },
          {
            title: t('points.member.ruleVersion'),
            dataIndex: 'rule_version',
            render: (v?: number | null) => (v === undefined || v === null ? '—' : `v${v}`),
          },
        ]}
      />
      <Pager
        hasNewer={pages.hasNewer}
        hasOlder={Boolean(next)}
        onNewer={pages.newer}
        onOlder={() => next && pages.older(next)}
      />
    </Card>
  );
}

function ruleErrorText(e: unknown): string {
  if (e && typeof e === 'object' && 'message' in e && typeof (e as { message: unknown }).message === 'string') {
    return (e as { message: string }).message;
  }
  return JSON.stringify(e);
}
