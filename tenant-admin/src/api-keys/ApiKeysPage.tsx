import { useState } from 'react';
import { Alert, App, Button, Form, Input, Modal, Popconfirm, Select, Table, Tag, Typography } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { Schemas } from '../api/client';
import { applyServerErrors, errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { useAuth } from '../auth/AuthContext';
import { apiKeysKeys, createApiKey, fetchApiKeys, revokeApiKey } from './api';
import { roleLabel, useRoles } from '../roles/queries';

type ApiKey = Schemas['ApiKeyView'];

export function ApiKeysPage() {
  const { t, i18n } = useTranslation();
  const { me } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const keys = useQuery({ queryKey: apiKeysKeys.list(), queryFn: fetchApiKeys });
  const roles = useRoles();
  const [creating, setCreating] = useState(false);
  const [shown, setShown] = useState<string>();
  const tz = me?.tenant.time_zone;

  const revoke = useMutation({
    mutationFn: revokeApiKey,
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: apiKeysKeys.all });
      void message.success(t('apiKeys.revoked'));
    },
    onError: (err) => void message.error(errorText(t, err)),
  });

  return (
    <>
      <div className="page-toolbar">
        <Typography.Title level={2}>{t('apiKeys.title')}</Typography.Title>
        <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)} data-testid="api-key-add">
          {t('apiKeys.add')}
        </Button>
      </div>
      <Typography.Paragraph type="secondary">{t('apiKeys.intro')}</Typography.Paragraph>
      <Table<ApiKey>
        rowKey="id"
        loading={keys.isPending}
        dataSource={keys.data}
        pagination={false}
        scroll={{ x: 'max-content' }}
        locale={{ emptyText: keys.isError ? errorText(t, keys.error) : undefined }}
        columns={[
          { title: t('common.name'), dataIndex: 'name' },
          { title: t('apiKeys.preview'), dataIndex: 'preview', render: (p: string) => <Typography.Text code>{p}</Typography.Text> },
          { title: t('apiKeys.role'), dataIndex: 'role', render: (r: string) => roleLabel(t, r, roles.data) },
          { title: t('common.created'), dataIndex: 'created_at', render: (v: string) => formatDateTime(v, i18n.language, tz) },
          { title: t('apiKeys.lastUsed'), dataIndex: 'last_used_at', render: (v?: string) => formatDateTime(v, i18n.language, tz) },
          {
            title: t('common.status'),
            key: 'status',
            render: (_, k) =>
              k.revoked_at ? (
                <Tag>{t('apiKeys.statusRevoked')}</Tag>
              ) : k.expires_at && new Date(k.expires_at) < new Date() ? (
                <Tag>{t('apiKeys.statusExpired')}</Tag>
              ) : (
                <Tag color="green">{t('apiKeys.statusActive')}</Tag>
              ),
          },
          {
            title: t('common.actions'),
            key: 'actions',
            render: (_, k) =>
              !k.revoked_at && (
                <Popconfirm
                  title={t('apiKeys.revokeConfirm', { name: k.name })}
                  okText={t('apiKeys.revoke')}
                  cancelText={t('common.cancel')}
                  onConfirm={() => revoke.mutateAsync(k.id)}
                >
                  <Button type="link" danger>
                    {t('apiKeys.revoke')}
                  </Button>
                </Popconfirm>
              ),
          },
        ]}
      />
      {creating && (
        <CreateKeyModal
          onClose={() => setCreating(false)}
          onCreated={(key) => {
            setCreating(false);
            setShown(key);
          }}
        />
      )}
      <Modal
        open={shown !== undefined}
        title={t('apiKeys.createdTitle')}
        closable={false}
        maskClosable={false}
        keyboard={false}
        onOk={() => setShown(undefined)}
        okText={t('apiKeys.done')}
        cancelButtonProps={{ style: { display: 'none' } }}
        destroyOnHidden
      >
        <Alert type="warning" showIcon message={t('apiKeys.shownOnce')} style={{ marginBottom: 16 }} />
        <Typography.Paragraph
          className="key-box"
          copyable={{ text: shown ?? '', tooltips: [t('common.copy'), t('common.copied')] }}
          data-testid="api-key-secret"
        >
          {shown}
        </Typography.Paragraph>
      </Modal>
    </>
  );
}

interface NewKeyForm {
  name: string;
  role: string;
}

function CreateKeyModal({ onClose, onCreated }: { onClose: () => void; onCreated: (key: string) => void }) {
  const { t } = useTranslation();
  const [form] = Form.useForm<NewKeyForm>();
  const [error, setError] = useState<string>();
  const qc = useQueryClient();
  const roles = useRoles();
  const create = useMutation({
    mutationFn: (v: NewKeyForm) => createApiKey({ name: v.name.trim(), role: v.role }),
    onSuccess: (created) => {
      void qc.invalidateQueries({ queryKey: apiKeysKeys.all });
      onCreated(created.key);
    },
    onError: (err) => setError(applyServerErrors(t, form, err, ['name', 'role'])),
  });
  const required = { required: true, message: t('validation.required') };
  return (
    <Modal
      open
      title={t('apiKeys.add')}
      onCancel={onClose}
      okText={t('common.create')}
      cancelText={t('common.cancel')}
      confirmLoading={create.isPending}
      onOk={() => form.submit()}
    >
      {error && <Typography.Paragraph type="danger" role="alert">{error}</Typography.Paragraph>}
      <Form<NewKeyForm>
        form={form}
        layout="vertical"
        name="new-api-key"
        onFinish={(v) => {
          setError(undefined);
          create.mutate(v);
        }}
      >
        <Form.Item name="name" label={t('common.name')} extra={t('apiKeys.nameHelp')} rules={[required]}>
          <Input />
        </Form.Item>
        <Form.Item name="role" label={t('apiKeys.role')} extra={t('apiKeys.roleHelp')} rules={[required]}>
          <Select
            data-testid="api-key-role"
            showSearch
            optionFilterProp="label"
            loading={roles.isPending}
            options={(roles.data ?? []).map((r) => ({ value: r.name, label: roleLabel(t, r.name, roles.data) }))}
          />
        </Form.Item>
      </Form>
    </Modal>
  );
}
