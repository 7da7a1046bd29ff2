// A member's change log: who changed which field, from what to what, a hundred at a time.
import { Alert, Button, Empty, Table } from 'antd';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { Schemas } from '../api/client';
import { errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { useAuth } from '../auth/AuthContext';
import { fetchMemberAudit, membersKeys } from './api';
import { Detail, useActorName } from './changes';
import { useFields } from '../fields/queries';

type AuditRow = Schemas['MemberAuditView'];

const AUDIT_PAGE = 100;

export function AuditTab({ memberId }: { memberId: string }) {
  const { t, i18n } = useTranslation();
  const fields = useFields();
  /** A changed field by its name: built-in ones translated, custom ones by their label. */
  const fieldName = (f: string): string => {
    if (f.startsWith('custom.')) {
      const key = f.slice('custom.'.length);
      const def = [...(fields.data?.fields ?? []), ...(fields.data?.archived ?? [])].find((x) => x.key === key);
      const label = def?.label;
      const name = label ? (i18n.language === 'en' ? label.en || label['zh-CN'] : label['zh-CN'] || label.en) : '';
      return name || key;
    }
    return t(`members.f.${f}`, { defaultValue: f });
  };
  const { me } = useAuth();
  const log = useInfiniteQuery({
    queryKey: membersKeys.audit(memberId),
    initialPageParam: undefined as number | undefined,
    queryFn: ({ pageParam }) =>
      fetchMemberAudit(memberId, { after: pageParam, limit: AUDIT_PAGE }),
    getNextPageParam: (last) => (last.length === AUDIT_PAGE ? last[last.length - 1]?.id : undefined),
  });
  const rows = log.data?.pages.flat() ?? [];
  const actorName = useActorName();
  if (log.isError) return <Alert type="error" showIcon message={errorText(t, log.error)} />;
  return (
    <>
      <Table<AuditRow>
        rowKey="id"
        size="small"
        loading={log.isPending}
        dataSource={rows}
        pagination={false}
        scroll={{ x: 'max-content' }}
        locale={{ emptyText: <Empty description={t('members.auditEmpty')} /> }}
        columns={[
          { title: t('audit.at'), dataIndex: 'at', render: (v: string) => formatDateTime(v, i18n.language, me?.tenant.time_zone) },
          { title: t('audit.actor'), dataIndex: 'actor', render: actorName },
          { title: t('members.channel'), dataIndex: 'channel', render: (c: string) => t(`members.channels.${c}`, { defaultValue: c }) },
          { title: t('audit.action'), dataIndex: 'action', render: (a: string) => t(`members.auditActions.${a}`, { defaultValue: a }) },
          { title: t('members.field'), dataIndex: 'field', render: (f: string | null) => (f ? fieldName(f) : '') },
          { title: t('members.before'), dataIndex: 'before', render: (v: unknown) => <Detail value={v} /> },
          { title: t('members.after'), dataIndex: 'after', render: (v: unknown) => <Detail value={v} /> },
        ]}
      />
      {log.hasNextPage && (
        <div style={{ textAlign: 'center', marginTop: 16 }}>
          <Button onClick={() => void log.fetchNextPage()} loading={log.isFetchingNextPage}>
            {t('members.loadMore')}
          </Button>
        </div>
      )}
    </>
  );
}
