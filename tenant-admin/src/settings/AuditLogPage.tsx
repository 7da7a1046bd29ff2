import type { TFunction } from 'i18next';
import { Alert, Button, Table, Typography } from 'antd';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { Schemas } from '../api/client';
import { errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { useAuth } from '../auth/AuthContext';
import { fetchAuditLog, settingsKeys } from './api';
import { useActorName } from '../members/changes';

type Entry = Schemas['AuditEntryView'];
const PAGE = 50;

export function AuditLogPage() {
  const { t, i18n } = useTranslation();
  const actorName = useActorName();
  const { me } = useAuth();
  const log = useInfiniteQuery({
    queryKey: settingsKeys.auditLog(),
    initialPageParam: undefined as number | undefined,
    queryFn: ({ pageParam }) =>
      fetchAuditLog({ before: pageParam, limit: PAGE }),
    getNextPageParam: (last) => (last.length === PAGE ? last[last.length - 1]?.id : undefined),
  });
  const rows = log.data?.pages.flat() ?? [];

  return (
    <>
      <div className="page-toolbar">
        <Typography.Title level={2}>{t('audit.title')}</Typography.Title>
      </div>
      {log.isError && <Alert type="error" showIcon message={errorText(t, log.error)} style={{ marginBottom: 16 }} />}
      <Table<Entry>
        rowKey="id"
        size="small"
        loading={log.isPending}
        dataSource={rows}
        pagination={false}
        scroll={{ x: 'max-content' }}
        columns={[
          { title: t('audit.at'), dataIndex: 'at', render: (v: string) => formatDateTime(v, i18n.language, me?.tenant.time_zone) },
          { title: t('audit.actor'), dataIndex: 'actor', render: (a: string) => actorName(a) },
          {
            title: t('audit.action'),
            dataIndex: 'action',
            render: (a: string) => t(`audit.actions.${a.replace('.', '_')}`, { defaultValue: a }),
          },
          { title: t('audit.target'), key: 'target', render: (_, e) => auditTarget(t, e.action, e.target) },
          {
            title: t('audit.detail'),
            dataIndex: 'detail',
            render: (d: unknown) =>
              d && typeof d === 'object' && Object.keys(d).length > 0 ? (
                <Typography.Text code style={{ whiteSpace: 'pre-wrap', fontSize: 12 }}>
                  {JSON.stringify(d)}
                </Typography.Text>
              ) : null,
          },
        ]}
      />
      {log.hasNextPage && (
        <div style={{ textAlign: 'center', marginTop: 16 }}>
          <Button onClick={() => void log.fetchNextPage()} loading={log.isFetchingNextPage}>
            {t('audit.more')}
          </Button>
        </div>
      )}
    </>
  );
}

/** What an entry acted on, by name where the console knows it (a rule's trigger, the tiers). */
function auditTarget(t: TFunction, action: string, target: string | null | undefined): string {
  if (!target) return '';
  if (action.startsWith('rules.')) {
    return target.startsWith('event.')
      ? t('rules.trigger.event', { name: target.slice('event.'.length) })
      : t(`rules.trigger.${target}`, { defaultValue: target });
  }
  if (action.startsWith('tiers.') && target === 'tiers') return t('nav.tiers');
  return target;
}
