// A member's threads on their page in the console, each opening in the conversations page.
import { Table } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import type { Schemas } from '../api/client';
import { useAuth } from '../auth/AuthContext';
import { errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { missingFeature } from '../prepaid/parts';
import { conversationsKeys, fetchConversations } from './api';
import { StatusTag } from './parts';

export function MemberConversations({ memberId }: { memberId: string }) {
  const { t, i18n } = useTranslation();
  const { me } = useAuth();
  const query = { member_id: memberId, limit: 100 };
  const list = useQuery({ queryKey: conversationsKeys.list(query), queryFn: () => fetchConversations(query), retry: false });
  if (missingFeature(list.error)) return <>{t('conversations.gate')}: {t('errors.feature_not_in_plan')}</>;
  return (
    <div data-testid="member-conversations">
      <Link to={`/conversations?member_id=${memberId}`}>{t('conversations.allOfMember')}</Link>
      <Table<Schemas['ConversationSummary']>
        size="small"
        rowKey="id"
        style={{ marginTop: 8 }}
        loading={list.isPending}
        dataSource={list.data?.items ?? []}
        pagination={false}
        scroll={{ x: 'max-content' }}
        locale={{ emptyText: list.isError ? errorText(t, list.error) : t('conversations.none') }}
        columns={[
          {
            title: t('conversations.subject'),
            dataIndex: 'subject',
            render: (v: string, c) => <Link to={`/conversations?member_id=${memberId}&thread=${c.id}`}>{v}</Link>,
          },
          { title: t('conversations.state'), dataIndex: 'status', render: (s: string) => <StatusTag status={s} /> },
          { title: t('conversations.assignee'), dataIndex: 'assignee_name', render: (v?: string | null) => v ?? '—' },
          {
            title: t('conversations.lastMessage'),
            dataIndex: 'last_message_at',
            render: (v: string) => formatDateTime(v, i18n.language, me?.tenant.time_zone),
          },
        ]}
      />
    </div>
  );
}
