// A member's cards tab: their cards (report lost, reissue, bind a physical card) and the
// cards' history.
import { useState } from 'react';
import { Alert, App, Button, Popconfirm, Space, Table, Tag, Typography } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { Schemas } from '../api/client';
import { errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { useAuth } from '../auth/AuthContext';
import { fetchMemberCards, membersKeys, reissueCard, reportCardLost } from './api';
import { BindCardModal } from './BindCardModal';
import { Detail, useActorName } from './changes';
import type { Member } from './profile';

type Card = Schemas['CardView'];
type CardEvent = Schemas['CardEventView'];

export function CardsTab({ member }: { member: Member }) {
  const { t, i18n } = useTranslation();
  const { can, me } = useAuth();
  const qc = useQueryClient();
  const { message } = App.useApp();
  const [binding, setBinding] = useState(false);
  const cards = useQuery({
    queryKey: membersKeys.cards(member.id),
    queryFn: () => fetchMemberCards(member.id),
  });
  const done = (text: string) => {
    void qc.invalidateQueries({ queryKey: membersKeys.detail(member.id) });
    void message.success(text);
  };
  const lost = useMutation({
    mutationFn: reportCardLost,
    onSuccess: () => done(t('members.cards.lostDone')),
    onError: (err) => void message.error(errorText(t, err)),
  });
  const reissue = useMutation({
    mutationFn: reissueCard,
    onSuccess: (c) => done(t('members.cards.reissued', { number: c.number })),
    onError: (err) => void message.error(errorText(t, err)),
  });
  const writable = can('members:write') && member.status !== 'erased';
  const actorName = useActorName();
  const when = (v?: string) => formatDateTime(v, i18n.language, me?.tenant.time_zone);

  return (
    <>
      {cards.isError && <Alert type="error" showIcon message={errorText(t, cards.error)} style={{ marginBottom: 16 }} />}
      <div className="page-toolbar">
        <Typography.Title level={4} style={{ margin: 0 }}>{t('members.cards.title')}</Typography.Title>
        {writable && <Button onClick={() => setBinding(true)}>{t('members.cards.bind')}</Button>}
      </div>
      <Table<Card>
        rowKey="number"
        size="small"
        loading={cards.isPending}
        dataSource={cards.data?.cards}
        pagination={false}
        scroll={{ x: 'max-content' }}
        columns={[
          { title: t('members.cards.number'), dataIndex: 'number', render: (n: string) => <span className="mono">{n}</span> },
          {
            title: t('common.status'),
            dataIndex: 'status',
            render: (s: string) => (
              <Tag color={s === 'active' ? 'green' : s === 'lost' ? 'orange' : 'default'}>{t(`members.cards.status.${s}`, { defaultValue: s })}</Tag>
            ),
          },
          { title: t('members.cards.physical'), dataIndex: 'physical_code' },
          { title: t('members.cards.issued'), dataIndex: 'issued_at', render: when },
          { title: t('members.cards.replacedBy'), dataIndex: 'replaced_by' },
          ...(writable
            ? [
                {
                  title: t('common.actions'),
                  key: 'actions',
                  render: (_: unknown, c: Card) => (
                    <Space size={0} wrap>
                      {c.status === 'active' && (
                        <Popconfirm
                          title={t('members.cards.lostConfirm', { number: c.number })}
                          okText={t('members.cards.reportLost')}
                          cancelText={t('common.cancel')}
                          onConfirm={() => lost.mutateAsync(c.number)}
                        >
                          <Button type="link" danger>{t('members.cards.reportLost')}</Button>
                        </Popconfirm>
                      )}
                      {(c.status === 'active' || c.status === 'lost') && (
                        <Popconfirm
                          title={t('members.cards.reissueConfirm', { number: c.number })}
                          okText={t('members.cards.reissue')}
                          cancelText={t('common.cancel')}
                          onConfirm={() => reissue.mutateAsync(c.number)}
                        >
                          <Button type="link">{t('members.cards.reissue')}</Button>
                        </Popconfirm>
                      )}
                    </Space>
                  ),
                },
              ]
            : []),
        ]}
      />
      <Typography.Title level={5} style={{ marginTop: 24 }}>{t('members.cards.history')}</Typography.Title>
      <Table<CardEvent>
        rowKey={(e) => `${e.number}-${e.at}-${e.event}`}
        size="small"
        loading={cards.isPending}
        dataSource={cards.data?.history}
        pagination={false}
        scroll={{ x: 'max-content' }}
        columns={[
          { title: t('audit.at'), dataIndex: 'at', render: when },
          { title: t('members.cards.number'), dataIndex: 'number', render: (n: string) => <span className="mono">{n}</span> },
          { title: t('audit.action'), dataIndex: 'event', render: (e: string) => t(`members.cards.events.${e}`, { defaultValue: e }) },
          { title: t('audit.actor'), dataIndex: 'actor', render: actorName },
          { title: t('audit.detail'), dataIndex: 'detail', render: (d: unknown) => <Detail value={d} /> },
        ]}
      />
      {binding && <BindCardModal member={member} onClose={() => setBinding(false)} />}
    </>
  );
}
