// A member's points ledger on the member page, a page at a time (newest first).
import { Card, Table, Tag, Typography } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { Schemas } from '../api/client';
import { errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { useAuth } from '../auth/AuthContext';
import { fetchPointEntries, pointsKeys } from './api';
import { useCursorPages } from './cursor';
import { Pager } from './Pager';
import { useActorName } from '../members/changes';
import { reasonText } from '../common/reasons';

type Entry = Schemas['EntryView'];

const PAGE = 20;

const KIND_COLOURS: Record<string, string> = {
  earn: 'green',
  redeem: 'blue',
  expire: 'orange',
  adjust: 'purple',
  reverse: 'red',
};

export function EntriesCard({ memberId }: { memberId: string }) {
  const { t, i18n } = useTranslation();
  const actorName = useActorName();
  const { me } = useAuth();
  const tz = me?.tenant.time_zone;
  const pages = useCursorPages<number>();
  const entries = useQuery({
    queryKey: pointsKeys.entries(memberId, pages.cursor),
    queryFn: () => fetchPointEntries(memberId, { limit: PAGE, before: pages.cursor }),
  });
  const next = entries.data?.next_cursor;
  return (
    <Card size="small" title={t('points.member.history')} style={{ marginBottom: 16 }}>
      <Table<Entry>
        rowKey="id"
        size="small"
        data-testid="points-entries"
        loading={entries.isPending}
        dataSource={entries.data?.items}
        pagination={false}
        scroll={{ x: 'max-content' }}
        locale={{ emptyText: entries.isError ? errorText(t, entries.error) : t('points.member.noEntries') }}
        columns={[
          { title: t('points.member.at'), dataIndex: 'at', render: (v: string) => formatDateTime(v, i18n.language, tz) },
          {
            title: t('points.member.kind'),
            dataIndex: 'kind',
            render: (k: string) => <Tag color={KIND_COLOURS[k]}>{t(`points.kind.${k}`, { defaultValue: k })}</Tag>,
          },
          {
            title: t('points.member.points'),
            dataIndex: 'points',
            align: 'right',
            render: (p: number) => (
              <Typography.Text type={p < 0 ? 'danger' : 'success'}>{p > 0 ? `+${p}` : p}</Typography.Text>
            ),
          },
          { title: t('points.member.balanceAfter'), dataIndex: 'balance', align: 'right' },
          {
            title: t('points.member.reason'),
            key: 'reason',
            render: (_, e) =>
              reasonText(t, e.reason, e.reason_code, e.reason_params as Record<string, unknown> | null | undefined, {
                currency: me?.tenant.currency,
                lang: i18n.language,
              }),
          },
          {
            title: t('points.member.ruleVersion'),
            dataIndex: 'rule_version',
            render: (v?: number | null) => (v === undefined || v === null ? '—' : `v${v}`),
          },
          {
            title: t('points.member.source'),
            key: 'source',
            render: (_, e) => (
              <span title={e.source_id}>{t(`points.source.${e.source}`, { defaultValue: e.source })}</span>
            ),
          },
          { title: t('points.member.actor'), dataIndex: 'actor', render: (a: string) => actorName(a) },
        ]}
      />
      <Pager
        hasNewer={pages.hasNewer}
        hasOlder={next !== undefined && next !== null}
        onNewer={pages.newer}
        onOlder={() => next !== undefined && next !== null && pages.older(next)}
      />
    </Card>
  );
}
