// 联系我们 in the member portal: my threads with the business (answers I have not read
// marked), a new thread (subject and message), and one thread with its messages and a box
// to write more (a closed thread opens again). Opening a thread marks its answers read.
import { useEffect, useState } from 'react';
import { App, Badge, Button, Empty, Form, Input, List, Space, Spin, Tag, Typography } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useNavigate, useParams } from 'react-router';
import type { Schemas } from '../api/client';
import { applyServerErrors, errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { usePortal } from '../portal/PortalRoutes';
import {
  conversationsKeys,
  fetchMyConversation,
  fetchMyConversations,
  newKey,
  readConversation,
  startConversation,
  writeConversation,
} from './api';

/** My threads and the form for a new one. */
export function PortalConversationsPage() {
  const { t, i18n } = useTranslation();
  const { slug, token } = usePortal();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const { message } = App.useApp();
  const mine = useQuery({ queryKey: conversationsKeys.mine(slug, token), queryFn: () => fetchMyConversations(slug) });
  const [asking, setAsking] = useState(false);
  const [key, setKey] = useState(newKey);
  const [form] = Form.useForm<Schemas['MyNewConversation']>();
  const start = useMutation({
    mutationFn: (v: Schemas['MyNewConversation']) => startConversation(slug, v, key),
    onSuccess: (th) => {
      void qc.invalidateQueries({ queryKey: conversationsKeys.mine(slug, token) });
      setKey(newKey());
      form.resetFields();
      setAsking(false);
      navigate(`/m/${slug}/conversations/${th.conversation.id}`);
    },
    onError: (err) => {
      const rest = applyServerErrors(t, form, err, ['subject', 'body']);
      if (rest) void message.error(rest);
    },
  });
  if (mine.isPending) return <Spin />;
  if (mine.isError) return <Typography.Text type="danger">{errorText(t, mine.error)}</Typography.Text>;
  if (!mine.data.available) return <Empty description={t('conversations.portal.unavailable')} />;
  return (
    <div data-testid="portal-conversations">
      <Space style={{ width: '100%', justifyContent: 'space-between', marginBottom: 8 }} wrap>
        <Typography.Title level={4} style={{ margin: 0 }}>
          {t('conversations.portal.title')}{' '}
          {mine.data.unread > 0 && <Badge count={mine.data.unread} data-testid="conversations-unread" />}
        </Typography.Title>
        {!asking && (
          <Button type="primary" onClick={() => setAsking(true)} data-testid="conversation-new">
            {t('conversations.portal.new')}
          </Button>
        )}
      </Space>
      {asking && (
        <Form form={form} layout="vertical" onFinish={(v) => start.mutate(v)} style={{ marginBottom: 16 }}>
          <Form.Item name="subject" label={t('conversations.subject')} rules={[{ required: true, whitespace: true, message: t('conversations.portal.subjectRequired') }]}>
            <Input maxLength={200} data-testid="conversation-new-subject" />
          </Form.Item>
          <Form.Item name="body" label={t('conversations.portal.message')} rules={[{ required: true, whitespace: true, message: t('conversations.portal.messageRequired') }]}>
            <Input.TextArea rows={4} maxLength={4000} showCount data-testid="conversation-new-body" />
          </Form.Item>
          <Space>
            <Button type="primary" htmlType="submit" loading={start.isPending} data-testid="conversation-new-send">
              {t('conversations.send')}
            </Button>
            <Button onClick={() => setAsking(false)}>{t('common.cancel')}</Button>
          </Space>
        </Form>
      )}
      {mine.data.items.length === 0 ? (
        <Empty description={t('conversations.portal.none')} />
      ) : (
        <List<Schemas['MyConversation']>
          dataSource={mine.data.items}
          renderItem={(c) => (
            <List.Item
              key={c.id}
              onClick={() => navigate(`/m/${slug}/conversations/${c.id}`)}
              style={{ cursor: 'pointer', display: 'block' }}
              data-testid="portal-conversation"
              data-unread={c.unread}
            >
              <div style={{ display: 'flex', gap: 8, alignItems: 'center', flexWrap: 'wrap' }}>
                {c.unread > 0 && <Badge count={c.unread} size="small" />}
                <Typography.Text strong={c.unread > 0} style={{ flex: 1, minWidth: 0, overflowWrap: 'anywhere' }}>
                  {c.subject}
                </Typography.Text>
                <Tag>{t(`conversations.portal.status.${c.status}`)}</Tag>
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {formatDateTime(c.last_message_at, i18n.language)}
                </Typography.Text>
              </div>
            </List.Item>
          )}
        />
      )}
    </div>
  );
}

/** One of my threads. */
export function PortalConversationPage() {
  const { t, i18n } = useTranslation();
  const { id = '' } = useParams();
  const { slug, token } = usePortal();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const { message } = App.useApp();
  const thread = useQuery({ queryKey: conversationsKeys.myThread(slug, token, id), queryFn: () => fetchMyConversation(slug, id) });
  const [key, setKey] = useState(newKey);
  const [form] = Form.useForm<{ body: string }>();
  const unread = thread.data?.conversation.unread ?? 0;
  const read = useMutation({
    mutationFn: () => readConversation(slug, id),
    onSuccess: () => void qc.invalidateQueries({ queryKey: conversationsKeys.mine(slug, token) }),
  });
  useEffect(() => {
    if (unread > 0 && !read.isPending) read.mutate();
    // Marked once per unread count seen.
  }, [unread]);
  const write = useMutation({
    mutationFn: (body: string) => writeConversation(slug, id, body, key),
    onSuccess: (th) => {
      qc.setQueryData(conversationsKeys.myThread(slug, token, id), th);
      void qc.invalidateQueries({ queryKey: conversationsKeys.mine(slug, token) });
      setKey(newKey());
      form.resetFields();
    },
    onError: (err) => {
      const rest = applyServerErrors(t, form, err, ['body']);
      if (rest) void message.error(rest);
    },
  });
  if (thread.isPending) return <Spin />;
  if (thread.isError) return <Typography.Text type="danger">{errorText(t, thread.error)}</Typography.Text>;
  const c = thread.data.conversation;
  return (
    <div data-testid="portal-conversation-thread">
      <Button type="link" style={{ paddingLeft: 0 }} onClick={() => navigate(`/m/${slug}/conversations`)}>
        {t('conversations.portal.back')}
      </Button>
      <Typography.Title level={4} style={{ overflowWrap: 'anywhere' }}>
        {c.subject} <Tag>{t(`conversations.portal.status.${c.status}`)}</Tag>
      </Typography.Title>
      <List
        dataSource={thread.data.messages}
        renderItem={(m) => (
          <List.Item key={m.id} style={{ display: 'block' }} data-testid="portal-message" data-author={m.author}>
            <Space size={4} wrap>
              <Typography.Text strong>
                {m.author === 'member' ? t('conversations.portal.me') : m.author_name}
              </Typography.Text>
              <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                {formatDateTime(m.created_at, i18n.language)}
              </Typography.Text>
            </Space>
            <Typography.Paragraph style={{ whiteSpace: 'pre-wrap', margin: '4px 0 0', overflowWrap: 'anywhere' }}>
              {m.body}
            </Typography.Paragraph>
          </List.Item>
        )}
      />
      <Form form={form} layout="vertical" onFinish={(v) => write.mutate(v.body)} style={{ marginTop: 12 }}>
        <Form.Item name="body" label={t('conversations.portal.write')} rules={[{ required: true, whitespace: true, message: t('conversations.portal.messageRequired') }]}>
          <Input.TextArea rows={3} maxLength={4000} showCount data-testid="portal-conversation-body" />
        </Form.Item>
        <Button type="primary" htmlType="submit" loading={write.isPending} data-testid="portal-conversation-send">
          {t('conversations.send')}
        </Button>
      </Form>
    </div>
  );
}
