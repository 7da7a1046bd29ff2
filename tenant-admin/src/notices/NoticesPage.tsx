// 公告与通知: the portal's notices (title, body, period, audience, pin) with how many
// members read each, and the scheduled notices the business switches on and words itself
// (birthday, points expiring in N days, a membership or a visit pass ending in N days,
// activity reminders, a member's tier change).
import { useState } from 'react';
import { App, Button, Checkbox, Form, Input, InputNumber, Modal, Popconfirm, Select, Space, Switch, Table, Tabs, Tag, Typography } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import type { Schemas } from '../api/client';
import { useAuth } from '../auth/AuthContext';
import { applyServerErrors, errorText } from '../common/forms';
import { formatDateTime, nameIn } from '../common/format';
import { fromLocalInput, toLocalInput } from '../activities/time';
import { TemplateModal } from '../messages/TemplatesTab';
import { fetchTemplates, messagesKeys } from '../messages/api';
import { missingFeature } from '../prepaid/parts';
import { fetchTiersOverview, tiersKeys } from '../tiers/api';
import { createNotice, deleteNotice, fetchNotices, fetchScheduled, noticesKeys, SCHEDULED, setScheduled, updateNotice, WITH_DAYS } from './api';
import { NoticesGate } from './parts';

type Notice = Schemas['Notice'];

export function NoticesPage() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const list = useQuery({ queryKey: noticesKeys.list(), queryFn: fetchNotices, retry: false });
  if (missingFeature(list.error)) return <NoticesGate />;
  const tabs = [
    { key: 'notices', label: t('notices.tabs.notices'), children: <NoticesTab /> },
    { key: 'scheduled', label: t('notices.tabs.scheduled'), children: <ScheduledTab /> },
  ];
  const active = tabs.find((x) => x.key === params.get('tab'))?.key ?? 'notices';
  return (
    <div data-testid="notices-page">
      <Typography.Title level={3}>{t('notices.title')}</Typography.Title>
      <Tabs items={tabs} activeKey={active} onChange={(k) => setParams({ tab: k }, { replace: true })} />
    </div>
  );
}

function useTierNames(): { code: string; name: string }[] {
  const { i18n } = useTranslation();
  const q = useQuery({ queryKey: tiersKeys.overview(), queryFn: fetchTiersOverview, retry: false, staleTime: 60_000 });
  return (q.data?.active?.ladder.tiers ?? []).map((x) => ({ code: x.code, name: nameIn(x.name, i18n.language) || x.code }));
}

function NoticesTab() {
  const { t, i18n } = useTranslation();
  const { me } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const list = useQuery({ queryKey: noticesKeys.list(), queryFn: fetchNotices, retry: false });
  const tiers = useTierNames();
  const [editing, setEditing] = useState<Notice | 'new'>();
  const zone = me?.tenant.time_zone;
  const remove = useMutation({
    mutationFn: (id: string) => deleteNotice(id),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: noticesKeys.list() });
      void message.success(t('notices.deleted'));
    },
    onError: (err) => void message.error(errorText(t, err)),
  });
  const now = Date.now();
  const state = (n: Notice) =>
    new Date(n.starts_at).getTime() > now ? 'upcoming' : n.ends_at && new Date(n.ends_at).getTime() <= now ? 'over' : 'showing';
  const tierName = (code: string) => tiers.find((x) => x.code === code)?.name ?? code;
  return (
    <>
      <Typography.Paragraph type="secondary">{t('notices.intro')}</Typography.Paragraph>
      <div className="page-toolbar">
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')} data-testid="notice-new">
          {t('notices.new')}
        </Button>
      </div>
      <Table<Notice>
        size="small"
        rowKey="id"
        loading={list.isPending}
        dataSource={list.data ?? []}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        scroll={{ x: 'max-content' }}
        locale={{ emptyText: list.isError ? errorText(t, list.error) : t('notices.none') }}
        columns={[
          {
            title: t('notices.titleField'),
            dataIndex: 'title',
            render: (v: string, n) => (
              <Space>
                {n.pinned && <Tag color="gold">{t('notices.pinned')}</Tag>}
                <span data-testid="notice-title">{v}</span>
              </Space>
            ),
          },
          {
            title: t('notices.state'),
            key: 'state',
            render: (_, n) => {
              const s = state(n);
              return <Tag color={s === 'showing' ? 'green' : s === 'upcoming' ? 'blue' : 'default'}>{t(`notices.states.${s}`)}</Tag>;
            },
          },
          {
            title: t('notices.period'),
            key: 'period',
            render: (_, n) =>
              `${formatDateTime(n.starts_at, i18n.language, zone)} – ${n.ends_at ? formatDateTime(n.ends_at, i18n.language, zone) : t('notices.noEnd')}`,
          },
          {
            title: t('notices.audience'),
            key: 'audience',
            render: (_, n) => (n.tiers.length === 0 ? t('notices.everyone') : n.tiers.map(tierName).join('、')),
          },
          { title: t('notices.readBy'), dataIndex: 'read_by' },
          {
            title: '',
            key: 'actions',
            render: (_, n) => (
              <Space>
                <Button size="small" onClick={() => setEditing(n)}>
                  {t('notices.edit')}
                </Button>
                <Popconfirm title={t('notices.deleteConfirm')} onConfirm={() => remove.mutate(n.id)} okText={t('common.delete')} cancelText={t('common.cancel')}>
                  <Button size="small" danger>
                    {t('common.delete')}
                  </Button>
                </Popconfirm>
              </Space>
            ),
          },
        ]}
      />
      {editing && <NoticeModal notice={editing === 'new' ? undefined : editing} tiers={tiers} onClose={() => setEditing(undefined)} />}
    </>
  );
}

interface NoticeForm {
  title: string;
  body: string;
  starts_at?: string;
  ends_at?: string;
  tiers: string[];
  pinned: boolean;
}

function NoticeModal({ notice, tiers, onClose }: { notice?: Notice; tiers: { code: string; name: string }[]; onClose: () => void }) {
  const { t } = useTranslation();
  const { me } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm<NoticeForm>();
  const [error, setError] = useState<string>();
  const zone = me?.tenant.time_zone ?? 'Asia/Shanghai';
  const save = useMutation({
    mutationFn: (v: NoticeForm) => {
      const body: Schemas['NoticeInput'] = {
        title: v.title ?? '',
        body: v.body ?? '',
        starts_at: fromLocalInput(v.starts_at, zone),
        ends_at: fromLocalInput(v.ends_at, zone),
        tiers: v.tiers ?? [],
        pinned: v.pinned ?? false,
      };
      return notice ? updateNotice(notice.id, body) : createNotice(body);
    },
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: noticesKeys.list() });
      void message.success(t('notices.saved'));
      onClose();
    },
    onError: (err) => setError(applyServerErrors(t, form, err, ['title', 'body', 'starts_at', 'ends_at', 'tiers', 'pinned'])),
  });
  return (
    <Modal
      open
      width={640}
      title={notice ? t('notices.edit') : t('notices.new')}
      onCancel={onClose}
      okText={t('common.save')}
      cancelText={t('common.cancel')}
      confirmLoading={save.isPending}
      onOk={() => form.submit()}
      okButtonProps={{ ...({ 'data-testid': 'notice-save' } as Record<`data-${string}`, string>) }}
    >
      {error && (
        <Typography.Paragraph type="danger" role="alert">
          {error}
        </Typography.Paragraph>
      )}
      <Form<NoticeForm>
        form={form}
        layout="vertical"
        name="notice"
        initialValues={{
          title: notice?.title ?? '',
          body: notice?.body ?? '',
          starts_at: toLocalInput(notice?.starts_at, zone),
          ends_at: toLocalInput(notice?.ends_at, zone),
          tiers: notice?.tiers ?? [],
          pinned: notice?.pinned ?? false,
        }}
        onFinish={(v) => {
          setError(undefined);
          save.mutate(v);
        }}
      >
        <Form.Item name="title" label={t('notices.titleField')} rules={[{ required: true, whitespace: true, message: t('validation.required') }]}>
          <Input maxLength={200} data-testid="notice-title-input" />
        </Form.Item>
        <Form.Item name="body" label={t('notices.body')} rules={[{ required: true, whitespace: true, message: t('validation.required') }]}>
          <Input.TextArea rows={5} data-testid="notice-body-input" />
        </Form.Item>
        <Space wrap>
          <Form.Item name="starts_at" label={t('notices.startsAt')} extra={t('notices.startsAtHelp')}>
            <Input type="datetime-local" data-testid="notice-starts" />
          </Form.Item>
          <Form.Item name="ends_at" label={t('notices.endsAt')} extra={t('notices.endsAtHelp')}>
            <Input type="datetime-local" data-testid="notice-ends" />
          </Form.Item>
        </Space>
        <Form.Item name="tiers" label={t('notices.audience')} extra={t('notices.audienceHelp')}>
          <Select
            mode="multiple"
            allowClear
            placeholder={t('notices.everyone')}
            options={tiers.map((x) => ({ value: x.code, label: x.name }))}
            data-testid="notice-tiers"
          />
        </Form.Item>
        <Form.Item name="pinned" valuePropName="checked">
          <Checkbox data-testid="notice-pinned">{t('notices.pin')}</Checkbox>
        </Form.Item>
      </Form>
    </Modal>
  );
}

type Scheduled = Schemas['ScheduledNotice'];
type Occasion = Schemas['TemplateInput']['occasion'];

function ScheduledTab() {
  const { t, i18n } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const list = useQuery({ queryKey: noticesKeys.scheduled(), queryFn: fetchScheduled, retry: false });
  const templates = useQuery({ queryKey: messagesKeys.templates(), queryFn: fetchTemplates });
  const [days, setDays] = useState<Record<string, number>>({});
  const [wording, setWording] = useState<{ occasion: Occasion; locale: 'zh-CN' | 'en' }>();
  const save = useMutation({
    mutationFn: (v: { occasion: string; enabled: boolean; days_ahead: number }) =>
      setScheduled(v.occasion, { enabled: v.enabled, days_ahead: v.days_ahead }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: noticesKeys.scheduled() });
      void message.success(t('notices.saved'));
    },
    onError: (err) => void message.error(errorText(t, err)),
  });
  const rows: Scheduled[] = SCHEDULED.map(
    (o) => list.data?.find((x) => x.occasion === o) ?? { occasion: o, enabled: false, days_ahead: 0, worded: false, updated_by: '' },
  );
  const locale: 'zh-CN' | 'en' = i18n.language === 'en' ? 'en' : 'zh-CN';
  const daysOf = (r: Scheduled) => days[r.occasion] ?? (r.days_ahead || 3);
  return (
    <>
      <Typography.Paragraph type="secondary">{t('notices.scheduledIntro')}</Typography.Paragraph>
      <Table<Scheduled>
        size="small"
        rowKey="occasion"
        loading={list.isPending}
        dataSource={rows}
        pagination={false}
        scroll={{ x: 'max-content' }}
        locale={{ emptyText: list.isError ? errorText(t, list.error) : undefined }}
        columns={[
          { title: t('messages.occasion'), dataIndex: 'occasion', render: (o: string) => t(`messages.occasions.${o}`) },
          {
            title: t('notices.switch'),
            key: 'enabled',
            render: (_, r) => (
              <Switch
                checked={r.enabled}
                loading={save.isPending && save.variables?.occasion === r.occasion}
                data-testid={`scheduled-${r.occasion}`}
                onChange={(on) => save.mutate({ occasion: r.occasion, enabled: on, days_ahead: WITH_DAYS.includes(r.occasion) ? daysOf(r) : 0 })}
              />
            ),
          },
          {
            title: t('notices.daysAhead'),
            key: 'days',
            render: (_, r) =>
              WITH_DAYS.includes(r.occasion) ? (
                <Space>
                  <InputNumber
                    min={1}
                    max={90}
                    value={daysOf(r)}
                    onChange={(v) => setDays((d) => ({ ...d, [r.occasion]: Number(v ?? 1) }))}
                    data-testid={`scheduled-days-${r.occasion}`}
                    addonAfter={t('notices.days')}
                  />
                  <Button size="small" onClick={() => save.mutate({ occasion: r.occasion, enabled: r.enabled, days_ahead: daysOf(r) })}>
                    {t('common.save')}
                  </Button>
                </Space>
              ) : (
                t(r.occasion === 'birthday' ? 'notices.onTheDay' : 'notices.dayBefore')
              ),
          },
          {
            title: t('notices.wording'),
            key: 'wording',
            render: (_, r) => (
              <Space>
                {!r.worded && <Tag color="orange">{t('notices.notWorded')}</Tag>}
                <Button size="small" data-testid={`scheduled-word-${r.occasion}`} onClick={() => setWording({ occasion: r.occasion as Occasion, locale })}>
                  {t('notices.word')}
                </Button>
              </Space>
            ),
          },
        ]}
      />
      {wording && (
        <TemplateModal
          occasion={wording.occasion}
          locale={wording.locale}
          current={templates.data?.find((x) => x.occasion === wording.occasion && x.channel === 'email' && x.locale === wording.locale)}
          onClose={() => {
            setWording(undefined);
            void qc.invalidateQueries({ queryKey: noticesKeys.scheduled() });
          }}
        />
      )}
    </>
  );
}
