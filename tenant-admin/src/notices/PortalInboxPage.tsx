// 消息 in the member portal: the notices shown to me and the e-mails the business wrote to
// me, newest first (pinned notices on top), unread ones marked; opening one marks it read.
// Below, my contact preferences (marketing e-mail on or off).
import { useState } from 'react';
import { App, Badge, Card, Empty, List, Spin, Switch, Tag, Typography } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { Schemas } from '../api/client';
import { errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { usePortal } from '../portal/PortalRoutes';
import { fetchInbox, fetchPreferences, noticesKeys, readMessage, readNotice, savePreferences } from './api';

type Item = Schemas['InboxItem'];

export function PortalInboxPage() {
  const { t, i18n } = useTranslation();
  const { slug, token } = usePortal();
  const qc = useQueryClient();
  const { message } = App.useApp();
  const inbox = useQuery({ queryKey: noticesKeys.inbox(slug, token), queryFn: () => fetchInbox(slug) });
  const prefs = useQuery({ queryKey: noticesKeys.preferences(slug, token), queryFn: () => fetchPreferences(slug) });
  const [open, setOpen] = useState<string>();
  const read = useMutation({
    mutationFn: (it: Item) => (it.kind === 'notice' ? readNotice(slug, it.id) : readMessage(slug, Number(it.id))),
    onSuccess: () => void qc.invalidateQueries({ queryKey: noticesKeys.inbox(slug, token) }),
  });
  const save = useMutation({
    mutationFn: (change: { marketing_email: boolean; marketing_sms?: boolean }) => savePreferences(slug, change),
    onSuccess: (p) => {
      qc.setQueryData(noticesKeys.preferences(slug, token), p);
      void message.success(t('inbox.preferencesSaved'));
    },
    onError: (err) => void message.error(errorText(t, err)),
  });
  const toggle = (it: Item) => {
    const key = `${it.kind}:${it.id}`;
    setOpen((o) => (o === key ? undefined : key));
    if (!it.read) read.mutate(it);
  };
  return (
    <div data-testid="portal-inbox">
      <Typography.Title level={4}>
        {t('inbox.title')}{' '}
        {(inbox.data?.unread ?? 0) > 0 && <Badge count={inbox.data?.unread} data-testid="inbox-unread" />}
      </Typography.Title>
      {inbox.isPending ? (
        <Spin />
      ) : inbox.isError ? (
        <Typography.Text type="danger">{errorText(t, inbox.error)}</Typography.Text>
      ) : inbox.data.items.length === 0 ? (
        <Empty description={t('inbox.none')} />
      ) : (
        <List<Item>
          dataSource={inbox.data.items}
          renderItem={(it) => {
            const key = `${it.kind}:${it.id}`;
            return (
              <List.Item
                key={key}
                onClick={() => toggle(it)}
                style={{ cursor: 'pointer', display: 'block' }}
                data-testid="inbox-item"
                data-read={it.read ? 'yes' : 'no'}
              >
                <div style={{ display: 'flex', gap: 8, alignItems: 'center', flexWrap: 'wrap' }}>
                  {!it.read && <Badge status="processing" aria-label={t('inbox.unread')} />}
                  <Tag color={it.kind === 'notice' ? 'blue' : 'default'}>{t(`inbox.${it.kind}`)}</Tag>
                  {it.pinned && <Tag color="gold">{t('inbox.pinned')}</Tag>}
                  <Typography.Text strong={!it.read} style={{ flex: 1, minWidth: 0, overflowWrap: 'anywhere' }}>
                    {it.title}
                  </Typography.Text>
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {formatDateTime(it.at, i18n.language)}
                  </Typography.Text>
                </div>
                {open === key && (
                  <Typography.Paragraph style={{ whiteSpace: 'pre-wrap', marginTop: 8, marginBottom: 0, overflowWrap: 'anywhere' }} data-testid="inbox-body">
                    {it.body}
                  </Typography.Paragraph>
                )}
              </List.Item>
            );
          }}
        />
      )}
      <Card size="small" title={t('inbox.preferences')} style={{ marginTop: 16 }}>
        <label style={{ display: 'flex', gap: 12, alignItems: 'center' }}>
          <Switch
            checked={prefs.data?.marketing_email ?? false}
            disabled={!prefs.data}
            loading={prefs.isPending || save.isPending}
            onChange={(on) => save.mutate({ marketing_email: on })}
            data-testid="inbox-marketing"
          />
          <span>{t('inbox.marketingEmail')}</span>
        </label>
        <label style={{ display: 'flex', gap: 12, alignItems: 'center', marginTop: 12 }}>
          <Switch
            checked={prefs.data?.marketing_sms ?? false}
            disabled={!prefs.data}
            loading={prefs.isPending || save.isPending}
            onChange={(on) => prefs.data && save.mutate({ marketing_email: prefs.data.marketing_email, marketing_sms: on })}
            data-testid="inbox-marketing-sms"
          />
          <span>{t('inbox.marketingSms')}</span>
        </label>
      </Card>
    </div>
  );
}

/** The unread count for the tab's badge. */
export function useUnread(): number {
  const { slug, token } = usePortal();
  const q = useQuery({
    queryKey: noticesKeys.inbox(slug, token),
    queryFn: () => fetchInbox(slug),
    enabled: token !== null,
    retry: false,
    staleTime: 30_000,
  });
  return q.data?.unread ?? 0;
}
