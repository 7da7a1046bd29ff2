// 会员咨询 (conversations): threads members opened in the portal, the latest first, with
// how many wait for an answer; filters (state, assignee, member, keyword, dates) live in
// the URL. A thread opens in a drawer: its messages, the answer box, assignment, closing
// and reopening, and follow-ups ("call back on ..."). A second tab lists the follow-ups due.
import { useState } from 'react';
import { App, Badge, Button, DatePicker, Drawer, Empty, Form, Input, List, Select, Space, Spin, Table, Tabs, Tag, Typography } from 'antd';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import dayjs, { type Dayjs } from 'dayjs';
import type { Schemas } from '../api/client';
import { useAuth } from '../auth/AuthContext';
import { applyServerErrors, errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { missingFeature } from '../prepaid/parts';
import { fetchStaff, staffKeys } from '../staff/api';
import {
  addFollowUp,
  answerConversation,
  assignConversation,
  closeConversation,
  type ConversationQuery,
  conversationsKeys,
  fetchConversation,
  fetchConversations,
  fetchDueFollowUps,
  finishFollowUp,
  newKey,
  reopenConversation,
  STATUSES,
} from './api';
import { ConversationsGate, StatusTag } from './parts';

type Summary = Schemas['ConversationSummary'];
type Thread = Schemas['ConversationThread'];

const PAGE = 30;

export function ConversationsPage() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const probe = useQuery({ queryKey: conversationsKeys.list({ limit: 1 }), queryFn: () => fetchConversations({ limit: 1 }), retry: false });
  if (missingFeature(probe.error)) return <ConversationsGate />;
  const thread = params.get('thread');
  const setThread = (id?: string) => {
    const next = new URLSearchParams(params);
    if (id) next.set('thread', id);
    else next.delete('thread');
    setParams(next, { replace: true });
  };
  const tabs = [
    { key: 'threads', label: t('conversations.tabs.threads'), children: <ThreadsTab onOpen={setThread} /> },
    { key: 'due', label: t('conversations.tabs.due'), children: <DueTab onOpen={setThread} /> },
  ];
  const active = tabs.find((x) => x.key === params.get('tab'))?.key ?? 'threads';
  return (
    <div data-testid="conversations-page">
      <Typography.Title level={3}>
        {t('conversations.title')}{' '}
        {(probe.data?.waiting ?? 0) > 0 && (
          <Badge count={probe.data?.waiting} title={t('conversations.waitingCount')} data-testid="conversations-waiting" />
        )}
      </Typography.Title>
      <Tabs
        items={tabs}
        activeKey={active}
        onChange={(k) => {
          const next = new URLSearchParams(params);
          next.set('tab', k);
          setParams(next, { replace: true });
        }}
      />
      <ThreadDrawer id={thread} onClose={() => setThread(undefined)} />
    </div>
  );
}

function ThreadsTab({ onOpen }: { onOpen: (id: string) => void }) {
  const { t, i18n } = useTranslation();
  const { me } = useAuth();
  const [params, setParams] = useSearchParams();
  const zone = me?.tenant.time_zone;
  const who = params.get('who') ?? '';
  const from = params.get('from');
  const to = params.get('to');
  const query: ConversationQuery = {
    status: params.get('status') || undefined,
    assignee: who === 'me' ? me?.id : undefined,
    unassigned: who === 'nobody' ? true : undefined,
    member_id: params.get('member_id') || undefined,
    member: params.get('member') || undefined,
    keyword: params.get('keyword') || undefined,
    from: from ? dayjs(from).startOf('day').toISOString() : undefined,
    to: to ? dayjs(to).add(1, 'day').startOf('day').toISOString() : undefined,
    limit: PAGE,
  };
  const set = (k: string, v?: string | null) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    setParams(next, { replace: true });
  };
  const list = useInfiniteQuery({
    queryKey: conversationsKeys.list(query),
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => fetchConversations({ ...query, cursor: pageParam }),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    retry: false,
  });
  const rows = list.data?.pages.flatMap((p) => p.items) ?? [];
  const range: [Dayjs, Dayjs] | null = from && to ? [dayjs(from), dayjs(to)] : null;
  return (
    <>
      <Space wrap style={{ marginBottom: 16 }} data-testid="conversation-filters">
        <Select
          allowClear
          style={{ minWidth: 150 }}
          placeholder={t('conversations.filter.status')}
          value={query.status}
          onChange={(v?: string) => set('status', v)}
          options={STATUSES.map((s) => ({ value: s, label: t(`conversations.status.${s}`) }))}
          data-testid="conversation-filter-status"
        />
        <Select
          allowClear
          style={{ minWidth: 150 }}
          placeholder={t('conversations.filter.assignee')}
          value={who || undefined}
          onChange={(v?: string) => set('who', v)}
          options={[
            { value: 'me', label: t('conversations.filter.mine') },
            { value: 'nobody', label: t('conversations.filter.unassigned') },
          ]}
        />
        <Input.Search
          allowClear
          style={{ width: 220 }}
          placeholder={t('conversations.filter.member')}
          defaultValue={query.member}
          onSearch={(v) => set('member', v.trim())}
          data-testid="conversation-filter-member"
        />
        <Input.Search
          allowClear
          style={{ width: 200 }}
          placeholder={t('conversations.filter.keyword')}
          defaultValue={query.keyword}
          onSearch={(v) => set('keyword', v.trim())}
          data-testid="conversation-filter-keyword"
        />
        <DatePicker.RangePicker
          value={range}
          onChange={(v) => {
            const next = new URLSearchParams(params);
            if (v?.[0] && v[1]) {
              next.set('from', v[0].format('YYYY-MM-DD'));
              next.set('to', v[1].format('YYYY-MM-DD'));
            } else {
              next.delete('from');
              next.delete('to');
            }
            setParams(next, { replace: true });
          }}
          placeholder={[t('conversations.filter.from'), t('conversations.filter.to')]}
        />
        {query.member_id && (
          <Tag closable onClose={() => set('member_id', null)}>
            {t('conversations.filter.oneMember')}
          </Tag>
        )}
      </Space>
      <Table<Summary>
        size="small"
        rowKey="id"
        loading={list.isPending}
        dataSource={rows}
        pagination={false}
        scroll={{ x: 'max-content' }}
        locale={{ emptyText: list.isError ? errorText(t, list.error) : t('conversations.none') }}
        onRow={(c) => ({ onClick: () => onOpen(c.id), style: { cursor: 'pointer' }, 'data-testid': 'conversation-row' }) as never}
        columns={[
          {
            title: t('conversations.subject'),
            dataIndex: 'subject',
            render: (v: string, c) => (
              <Space>
                {c.status === 'open' && <Badge status="processing" aria-label={t('conversations.waitingForUs')} />}
                <Typography.Text strong={c.status === 'open'} data-testid="conversation-subject">
                  {v}
                </Typography.Text>
              </Space>
            ),
          },
          { title: t('conversations.member'), dataIndex: 'member_name' },
          { title: t('conversations.state'), dataIndex: 'status', render: (s: string) => <StatusTag status={s} /> },
          { title: t('conversations.assignee'), dataIndex: 'assignee_name', render: (v?: string | null) => v ?? '—' },
          {
            title: t('conversations.lastMessage'),
            dataIndex: 'last_message_at',
            render: (v: string) => formatDateTime(v, i18n.language, zone),
          },
        ]}
      />
      {list.hasNextPage && (
        <Button block style={{ marginTop: 8 }} loading={list.isFetchingNextPage} onClick={() => void list.fetchNextPage()}>
          {t('conversations.more')}
        </Button>
      )}
    </>
  );
}

function DueTab({ onOpen }: { onOpen: (id: string) => void }) {
  const { t } = useTranslation();
  const due = useQuery({ queryKey: conversationsKeys.due(), queryFn: fetchDueFollowUps });
  return (
    <Table<Schemas['DueConversationFollowUp']>
      size="small"
      rowKey="id"
      loading={due.isPending}
      dataSource={due.data ?? []}
      pagination={false}
      scroll={{ x: 'max-content' }}
      locale={{ emptyText: due.isError ? errorText(t, due.error) : t('conversations.followUps.noneDue') }}
      onRow={(f) => ({ onClick: () => onOpen(f.conversation_id), style: { cursor: 'pointer' } })}
      columns={[
        { title: t('conversations.followUps.dueOn'), dataIndex: 'due_on' },
        { title: t('conversations.followUps.note'), dataIndex: 'note' },
        { title: t('conversations.subject'), dataIndex: 'subject' },
        { title: t('conversations.member'), dataIndex: 'member_name' },
        { title: t('conversations.assignee'), dataIndex: 'assignee_name', render: (v?: string | null) => v ?? '—' },
      ]}
    />
  );
}

function ThreadDrawer({ id, onClose }: { id: string | null; onClose: () => void }) {
  const { t } = useTranslation();
  return (
    <Drawer
      open={id !== null}
      onClose={onClose}
      width="min(720px, 100vw)"
      title={t('conversations.thread')}
      destroyOnHidden
      data-testid="conversation-drawer"
    >
      {id && <ThreadView id={id} />}
    </Drawer>
  );
}

function ThreadView({ id }: { id: string }) {
  const { t, i18n } = useTranslation();
  const { me, can } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const zone = me?.tenant.time_zone;
  const thread = useQuery({ queryKey: conversationsKeys.thread(id), queryFn: () => fetchConversation(id) });
  const staff = useQuery({ queryKey: staffKeys.list(), queryFn: fetchStaff, enabled: can('staff:read'), retry: false });
  const write = can('members:write');
  const [replyKey, setReplyKey] = useState(newKey);
  const [followKey, setFollowKey] = useState(newKey);
  const [replyForm] = Form.useForm<{ body: string }>();
  const [followForm] = Form.useForm<{ due_on: Dayjs; note?: string }>();
  const changed = (th: Thread) => {
    qc.setQueryData(conversationsKeys.thread(id), th);
    void qc.invalidateQueries({ queryKey: [...conversationsKeys.all, 'list'] });
    void qc.invalidateQueries({ queryKey: conversationsKeys.due() });
  };
  const onError = (err: unknown) => void message.error(errorText(t, err));
  const reply = useMutation({
    mutationFn: (body: string) => answerConversation(id, body, replyKey),
    onSuccess: (th) => {
      changed(th);
      replyForm.resetFields();
      setReplyKey(newKey());
    },
    onError: (err) => {
      const rest = applyServerErrors(t, replyForm, err, ['body']);
      if (rest) void message.error(rest);
    },
  });
  const assign = useMutation({ mutationFn: (to: string | null) => assignConversation(id, to), onSuccess: changed, onError });
  const move = useMutation({
    mutationFn: (to: 'close' | 'reopen') => (to === 'close' ? closeConversation(id) : reopenConversation(id)),
    onSuccess: changed,
    onError,
  });
  const follow = useMutation({
    mutationFn: (v: { due_on: Dayjs; note?: string }) =>
      addFollowUp(id, { due_on: v.due_on.format('YYYY-MM-DD'), note: v.note ?? '' }, followKey),
    onSuccess: (th) => {
      changed(th);
      followForm.resetFields();
      setFollowKey(newKey());
    },
    onError: (err) => {
      const rest = applyServerErrors(t, followForm, err, ['due_on', 'note']);
      if (rest) void message.error(rest);
    },
  });
  const done = useMutation({ mutationFn: (f: string) => finishFollowUp(id, f), onSuccess: changed, onError });
  if (thread.isPending) return <Spin />;
  if (thread.isError) return <Typography.Text type="danger">{errorText(t, thread.error)}</Typography.Text>;
  const c = thread.data.conversation;
  const staffOptions = [
    ...(me?.kind === 'staff' ? [{ value: me.id, label: t('conversations.me', { name: me.name }) }] : []),
    ...(staff.data ?? [])
      .filter((s) => s.status === 'active' && s.id !== me?.id)
      .map((s) => ({ value: s.id, label: s.name || s.email })),
  ];
  if (c.assignee_id && !staffOptions.some((o) => o.value === c.assignee_id)) {
    staffOptions.push({ value: c.assignee_id, label: c.assignee_name ?? c.assignee_id });
  }
  return (
    <div data-testid="conversation-thread">
      <Space wrap style={{ marginBottom: 12 }}>
        <Typography.Title level={5} style={{ margin: 0, overflowWrap: 'anywhere' }} data-testid="thread-subject">
          {c.subject}
        </Typography.Title>
        <StatusTag status={c.status} />
      </Space>
      <div style={{ marginBottom: 12 }}>
        <Link to={`/members/${c.member_id}`}>{c.member_name}</Link>
      </div>
      {write && (
        <Space wrap style={{ marginBottom: 16 }}>
          <Select
            allowClear
            style={{ minWidth: 200 }}
            placeholder={t('conversations.assignTo')}
            value={c.assignee_id ?? undefined}
            options={staffOptions}
            onChange={(v?: string) => assign.mutate(v ?? null)}
            loading={assign.isPending}
            data-testid="thread-assignee"
          />
          {c.status === 'closed' ? (
            <Button onClick={() => move.mutate('reopen')} loading={move.isPending} data-testid="thread-reopen">
              {t('conversations.reopen')}
            </Button>
          ) : (
            <Button onClick={() => move.mutate('close')} loading={move.isPending} data-testid="thread-close">
              {t('conversations.close')}
            </Button>
          )}
        </Space>
      )}
      <List
        dataSource={thread.data.messages}
        locale={{ emptyText: <Empty description={t('conversations.noMessages')} /> }}
        renderItem={(m) => (
          <List.Item key={m.id} style={{ display: 'block' }} data-testid="thread-message" data-author={m.author}>
            <Space wrap size={4}>
              <Tag color={m.author === 'staff' ? 'blue' : 'green'}>
                {t(`conversations.author.${m.author}`)}
              </Tag>
              <Typography.Text strong>{m.author_name}</Typography.Text>
              <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                {formatDateTime(m.created_at, i18n.language, zone)}
              </Typography.Text>
            </Space>
            <Typography.Paragraph style={{ whiteSpace: 'pre-wrap', margin: '6px 0 0', overflowWrap: 'anywhere' }}>
              {m.body}
            </Typography.Paragraph>
          </List.Item>
        )}
      />
      {write && (
        <Form form={replyForm} layout="vertical" onFinish={(v) => reply.mutate(v.body)} style={{ marginTop: 12 }}>
          <Form.Item name="body" label={t('conversations.answer')} rules={[{ required: true, whitespace: true, message: t('conversations.answerRequired') }]}>
            <Input.TextArea rows={3} maxLength={4000} showCount data-testid="thread-reply" />
          </Form.Item>
          <Button type="primary" htmlType="submit" loading={reply.isPending} data-testid="thread-send">
            {t('conversations.send')}
          </Button>
        </Form>
      )}
      <Typography.Title level={5} style={{ marginTop: 24 }}>
        {t('conversations.followUps.title')}
      </Typography.Title>
      <List
        size="small"
        dataSource={thread.data.follow_ups}
        locale={{ emptyText: t('conversations.followUps.none') }}
        renderItem={(f) => (
          <List.Item
            key={f.id}
            data-testid="thread-follow-up"
            actions={
              write && !f.done_at
                ? [
                    <Button key="done" size="small" onClick={() => done.mutate(f.id)} loading={done.isPending}>
                      {t('conversations.followUps.done')}
                    </Button>,
                  ]
                : []
            }
          >
            <Space wrap>
              <Typography.Text delete={!!f.done_at}>{f.due_on}</Typography.Text>
              <Typography.Text style={{ overflowWrap: 'anywhere' }}>{f.note || '—'}</Typography.Text>
              {f.done_at && <Tag>{t('conversations.followUps.finished', { name: f.done_by ?? '' })}</Tag>}
            </Space>
          </List.Item>
        )}
      />
      {write && (
        <Form form={followForm} layout="inline" onFinish={(v) => follow.mutate(v)} style={{ marginTop: 8, rowGap: 8 }}>
          <Form.Item name="due_on" rules={[{ required: true, message: t('conversations.followUps.dueRequired') }]}>
            <DatePicker
              placeholder={t('conversations.followUps.dueOn')}
              disabledDate={(d) => d.isBefore(dayjs(), 'day')}
              data-testid="follow-up-date"
            />
          </Form.Item>
          <Form.Item name="note">
            <Input placeholder={t('conversations.followUps.note')} maxLength={500} style={{ minWidth: 200 }} />
          </Form.Item>
          <Button htmlType="submit" loading={follow.isPending} data-testid="follow-up-add">
            {t('conversations.followUps.add')}
          </Button>
        </Form>
      )}
    </div>
  );
}
