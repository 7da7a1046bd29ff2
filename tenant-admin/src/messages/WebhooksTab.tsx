import { useState } from 'react';
import { App, Button, Checkbox, DatePicker, Drawer, Form, Input, Modal, Popconfirm, Space, Switch, Table, Tag, Tooltip, Typography } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { Dayjs } from 'dayjs';
import type { Schemas } from '../api/client';
import { applyServerErrors, errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { useAuth } from '../auth/AuthContext';
import {
  EVENT_TYPES,
  createEndpoint,
  deleteEndpoint,
  fetchDeliveries,
  fetchEndpoint,
  fetchEndpoints,
  messagesKeys,
  replayEndpoint,
  rotateSecret,
  testEndpoint,
  updateEndpoint,
} from './api';
import { StatusTag } from './TemplatesTab';

type Endpoint = Schemas['EndpointView'];

export function WebhooksTab() {
  const { t, i18n } = useTranslation();
  const { me } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const endpoints = useQuery({ queryKey: messagesKeys.endpoints(), queryFn: fetchEndpoints });
  const [editing, setEditing] = useState<Endpoint | 'new'>();
  const [open, setOpen] = useState<Endpoint>();
  const tz = me?.tenant.time_zone;
  const refresh = () => void qc.invalidateQueries({ queryKey: messagesKeys.all });

  const test = useMutation({
    mutationFn: testEndpoint,
    onSuccess: (r) =>
      r.ok
        ? void message.success(t('webhooks.testOk', { status: r.status_code }))
        : void message.error(t('webhooks.testFailed', { status: r.status_code ?? '—', error: r.error })),
    onError: (err) => void message.error(errorText(t, err)),
  });
  const remove = useMutation({
    mutationFn: deleteEndpoint,
    onSuccess: refresh,
    onError: (err) => void message.error(errorText(t, err)),
  });

  return (
    <>
      <div className="page-toolbar">
        <Typography.Paragraph type="secondary">{t('webhooks.intro')}</Typography.Paragraph>
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')} data-testid="webhook-add">
          {t('webhooks.add')}
        </Button>
      </div>
      <Table<Endpoint>
        rowKey="id"
        loading={endpoints.isPending}
        dataSource={endpoints.data}
        pagination={false}
        scroll={{ x: 'max-content' }}
        locale={{ emptyText: endpoints.isError ? errorText(t, endpoints.error) : t('webhooks.none') }}
        columns={[
          { title: t('webhooks.url'), dataIndex: 'url', render: (u: string) => <Typography.Text code>{u}</Typography.Text> },
          {
            title: t('webhooks.events'),
            dataIndex: 'events',
            render: (es: string[]) => es.map((e) => <Tag key={e}>{t(`messages.occasions.${e}`, { defaultValue: e })}</Tag>),
          },
          {
            title: t('messages.status'),
            key: 'status',
            render: (_, e) =>
              e.enabled ? (
                <Tag color="green">{t('webhooks.on')}</Tag>
              ) : (
                <Tooltip title={e.disabled_reason && e.disabled_reason !== 'by_staff' ? t('webhooks.ownersTold') : undefined}>
                  <Tag color="red">{t(`webhooks.disabled.${e.disabled_reason ?? 'by_staff'}`)}</Tag>
                </Tooltip>
              ),
          },
          { title: t('messages.created'), dataIndex: 'created_at', render: (v: string) => formatDateTime(v, i18n.language, tz) },
          {
            title: t('common.actions'),
            key: 'actions',
            render: (_, e) => (
              <Space wrap>
                <Button type="link" onClick={() => setOpen(e)} data-testid="webhook-open">
                  {t('webhooks.log')}
                </Button>
                <Button type="link" onClick={() => test.mutate(e.id)} loading={test.isPending} data-testid="webhook-test">
                  {t('webhooks.sendTest')}
                </Button>
                <Button type="link" onClick={() => setEditing(e)}>
                  {t('webhooks.editButton')}
                </Button>
                <Popconfirm
                  title={t('webhooks.deleteConfirm')}
                  okText={t('common.delete')}
                  cancelText={t('common.cancel')}
                  onConfirm={() => remove.mutateAsync(e.id)}
                >
                  <Button type="link" danger>
                    {t('common.delete')}
                  </Button>
                </Popconfirm>
              </Space>
            ),
          },
        ]}
      />
      {editing && <EndpointModal endpoint={editing === 'new' ? undefined : editing} onClose={() => setEditing(undefined)} />}
      {open && <EndpointDrawer endpoint={open} onClose={() => setOpen(undefined)} />}
    </>
  );
}

interface EndpointForm {
  url: string;
  description?: string;
  events: string[];
  enabled: boolean;
}

function EndpointModal({ endpoint, onClose }: { endpoint?: Endpoint; onClose: () => void }) {
  const { t } = useTranslation();
  const [form] = Form.useForm<EndpointForm>();
  const [error, setError] = useState<string>();
  const qc = useQueryClient();
  const save = useMutation({
    mutationFn: (v: EndpointForm) => {
      const body = { url: v.url.trim(), description: v.description ?? '', events: v.events ?? [], enabled: v.enabled ?? true };
      return endpoint ? updateEndpoint(endpoint.id, body) : createEndpoint(body);
    },
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: messagesKeys.all });
      onClose();
    },
    onError: (err) => setError(applyServerErrors(t, form, err, ['url', 'description', 'events'])),
  });
  return (
    <Modal
      open
      title={endpoint ? t('webhooks.edit') : t('webhooks.add')}
      onCancel={onClose}
      okText={t('common.save')}
      cancelText={t('common.cancel')}
      confirmLoading={save.isPending}
      onOk={() => form.submit()}
    >
      {error && (
        <Typography.Paragraph type="danger" role="alert">
          {error}
        </Typography.Paragraph>
      )}
      <Form<EndpointForm>
        form={form}
        layout="vertical"
        name="webhook-endpoint"
        initialValues={{
          url: endpoint?.url ?? '',
          description: endpoint?.description ?? '',
          events: endpoint?.events ?? ['member.created'],
          enabled: endpoint?.enabled ?? true,
        }}
        onFinish={(v) => {
          setError(undefined);
          save.mutate(v);
        }}
      >
        <Form.Item name="url" label={t('webhooks.url')} extra={t('webhooks.urlHelp')} rules={[{ required: true, message: t('validation.required') }]}>
          <Input data-testid="webhook-url" placeholder="https://" />
        </Form.Item>
        <Form.Item name="description" label={t('webhooks.description')}>
          <Input />
        </Form.Item>
        <Form.Item name="events" label={t('webhooks.events')}>
          <Checkbox.Group
            options={EVENT_TYPES.map((e) => ({ value: e, label: t(`messages.occasions.${e}`) }))}
          />
        </Form.Item>
        <Form.Item name="enabled" label={t('messages.enabled')} valuePropName="checked">
          <Switch />
        </Form.Item>
      </Form>
    </Modal>
  );
}

function EndpointDrawer({ endpoint, onClose }: { endpoint: Endpoint; onClose: () => void }) {
  const { t, i18n } = useTranslation();
  const { me } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const tz = me?.tenant.time_zone;
  const full = useQuery({ queryKey: messagesKeys.endpoint(endpoint.id), queryFn: () => fetchEndpoint(endpoint.id) });
  const log = useQuery({ queryKey: messagesKeys.deliveries(endpoint.id), queryFn: () => fetchDeliveries(endpoint.id) });
  const [since, setSince] = useState<Dayjs | null>(null);
  const rotate = useMutation({
    mutationFn: () => rotateSecret(endpoint.id),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: messagesKeys.endpoint(endpoint.id) });
      void message.success(t('webhooks.rotated'));
    },
    onError: (err) => void message.error(errorText(t, err)),
  });
  const replay = useMutation({
    mutationFn: (at: string) => replayEndpoint(endpoint.id, at),
    onSuccess: (r) => {
      void qc.invalidateQueries({ queryKey: messagesKeys.deliveries(endpoint.id) });
      void message.success(t('webhooks.replayed', { count: r.queued }));
    },
    onError: (err) => void message.error(errorText(t, err)),
  });
  return (
    <Drawer open width={820} title={endpoint.url} onClose={onClose}>
      <Typography.Title level={5}>{t('webhooks.secret')}</Typography.Title>
      <Typography.Paragraph type="secondary">{t('webhooks.secretHelp')}</Typography.Paragraph>
      <Space wrap>
        <Typography.Text code copyable={full.data ? { text: full.data.secret } : false} data-testid="webhook-secret">
          {full.data ? full.data.secret : '…'}
        </Typography.Text>
        <Popconfirm title={t('webhooks.rotateConfirm')} okText={t('webhooks.rotate')} cancelText={t('common.cancel')} onConfirm={() => rotate.mutateAsync()}>
          <Button>{t('webhooks.rotate')}</Button>
        </Popconfirm>
      </Space>
      <Typography.Title level={5} style={{ marginTop: 24 }}>
        {t('webhooks.replay')}
      </Typography.Title>
      <Space wrap>
        <DatePicker showTime value={since} onChange={setSince} />
        <Button disabled={!since} loading={replay.isPending} onClick={() => since && replay.mutate(since.toISOString())}>
          {t('webhooks.replayButton')}
        </Button>
      </Space>
      <Typography.Title level={5} style={{ marginTop: 24 }}>
        {t('webhooks.log')}
      </Typography.Title>
      <Table<Schemas['DeliveryView']>
        rowKey="id"
        size="small"
        loading={log.isPending}
        dataSource={log.data}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        locale={{ emptyText: log.isError ? errorText(t, log.error) : t('webhooks.noDeliveries') }}
        expandable={{
          expandedRowRender: (d) => (
            <>
              <pre className="webhook-body">{d.body}</pre>
              {d.tries.map((a, i) => (
                <div key={i}>
                  {formatDateTime(a.at, i18n.language, tz)} · {a.ok ? '✓' : '✗'} {a.status_code ?? ''} {a.answer}
                </div>
              ))}
            </>
          ),
        }}
        columns={[
          { title: t('messages.created'), dataIndex: 'created_at', render: (v: string) => formatDateTime(v, i18n.language, tz) },
          { title: t('webhooks.event'), dataIndex: 'event', render: (e: string) => t(`messages.occasions.${e}`, { defaultValue: e }) },
          { title: t('messages.status'), dataIndex: 'status', render: (s: string) => <StatusTag status={s} /> },
          { title: t('messages.attempts'), dataIndex: 'attempts' },
          { title: t('messages.lastError'), dataIndex: 'last_error' },
        ]}
      />
    </Drawer>
  );
}
