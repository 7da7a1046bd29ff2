import { useState } from 'react';
import { App, Button, Form, Input, Modal, Popconfirm, Select, Space, Table, Tag, Typography } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { Schemas } from '../api/client';
import { applyServerErrors, errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { useAuth } from '../auth/AuthContext';
import { rolesKeys } from '../roles/api';
import { roleLabel, useRoles } from '../roles/queries';
import { createStaff, fetchStaff, staffKeys, updateStaff } from './api';

type Staff = Schemas['StaffView'];

interface NewStaffForm {
  name: string;
  email: string;
  password: string;
  roles: string[];
}

export function StaffPage() {
  const { t, i18n } = useTranslation();
  const { me, can } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const manage = can('staff:manage');
  const staff = useQuery({ queryKey: staffKeys.list(), queryFn: fetchStaff });
  const roles = useRoles();
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<Staff>();

  const setStatus = useMutation({
    mutationFn: (v: { id: string; status: 'active' | 'disabled' }) =>
      updateStaff(v.id, { status: v.status }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: staffKeys.all });
      void message.success(t('common.saved'));
    },
    onError: (err) => void message.error(errorText(t, err)),
  });

  const roleOptions = (roles.data ?? []).map((r) => ({ value: r.name, label: roleLabel(t, r.name, roles.data) }));

  return (
    <>
      <div className="page-toolbar">
        <Typography.Title level={2}>{t('staff.title')}</Typography.Title>
        {manage && (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)} data-testid="staff-add">
            {t('staff.add')}
          </Button>
        )}
      </div>
      <Table<Staff>
        rowKey="id"
        loading={staff.isPending}
        dataSource={staff.data}
        scroll={{ x: 'max-content' }}
        pagination={false}
        locale={{ emptyText: staff.isError ? errorText(t, staff.error) : undefined }}
        columns={[
          { title: t('common.name'), dataIndex: 'name' },
          { title: t('common.email'), dataIndex: 'email' },
          {
            title: t('staff.roles'),
            dataIndex: 'roles',
            render: (rs: string[]) => rs.map((r) => <Tag key={r}>{roleLabel(t, r, roles.data)}</Tag>),
          },
          {
            title: t('common.status'),
            dataIndex: 'status',
            render: (s: string) => (
              <Tag color={s === 'active' ? 'green' : 'default'}>{t(`staff.status.${s}`, { defaultValue: s })}</Tag>
            ),
          },
          {
            title: t('staff.lastLogin'),
            dataIndex: 'last_login_at',
            render: (v?: string) => formatDateTime(v, i18n.language, me?.tenant.time_zone),
          },
          ...(manage
            ? [
                {
                  title: t('common.actions'),
                  key: 'actions',
                  render: (_: unknown, s: Staff) => (
                    <Space size={0} wrap>
                      <Button type="link" onClick={() => setEditing(s)}>
                        {t('staff.editRoles')}
                      </Button>
                      {s.id !== me?.id &&
                        (s.status === 'active' ? (
                          <Popconfirm
                            title={t('staff.disableConfirm', { name: s.name })}
                            okText={t('staff.disable')}
                            cancelText={t('common.cancel')}
                            onConfirm={() => setStatus.mutateAsync({ id: s.id, status: 'disabled' })}
                          >
                            <Button type="link" danger>
                              {t('staff.disable')}
                            </Button>
                          </Popconfirm>
                        ) : (
                          <Button type="link" onClick={() => setStatus.mutate({ id: s.id, status: 'active' })}>
                            {t('staff.enable')}
                          </Button>
                        ))}
                    </Space>
                  ),
                },
              ]
            : []),
        ]}
      />
      {creating && <CreateStaffModal roleOptions={roleOptions} onClose={() => setCreating(false)} />}
      {editing && <EditRolesModal staff={editing} roleOptions={roleOptions} onClose={() => setEditing(undefined)} />}
    </>
  );
}

type Options = { value: string; label: string }[];

function CreateStaffModal({ roleOptions, onClose }: { roleOptions: Options; onClose: () => void }) {
  const { t } = useTranslation();
  const [form] = Form.useForm<NewStaffForm>();
  const [error, setError] = useState<string>();
  const qc = useQueryClient();
  const { message } = App.useApp();
  const create = useMutation({
    mutationFn: (v: NewStaffForm) =>
      createStaff({ ...v, name: v.name.trim(), email: v.email.trim() }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: staffKeys.all });
      void message.success(t('staff.created'));
      onClose();
    },
    onError: (err) => setError(applyServerErrors(t, form, err, ['name', 'email', 'password', 'roles'])),
  });
  const required = { required: true, message: t('validation.required') };
  return (
    <Modal
      open
      title={t('staff.add')}
      onCancel={onClose}
      okText={t('common.create')}
      cancelText={t('common.cancel')}
      confirmLoading={create.isPending}
      onOk={() => form.submit()}
      destroyOnHidden
    >
      {error && <Typography.Paragraph type="danger" role="alert">{error}</Typography.Paragraph>}
      <Form<NewStaffForm>
        form={form}
        layout="vertical"
        name="new-staff"
        initialValues={{ roles: [] }}
        onFinish={(v) => {
          setError(undefined);
          create.mutate(v);
        }}
      >
        <Form.Item name="name" label={t('common.name')} rules={[required]}>
          <Input />
        </Form.Item>
        <Form.Item name="email" label={t('common.email')} rules={[required]}>
          <Input type="email" autoComplete="off" />
        </Form.Item>
        <Form.Item
          name="password"
          label={t('staff.initialPassword')}
          extra={t('staff.initialPasswordHelp')}
          rules={[required, { min: 10, message: t('validation.passwordMin') }]}
        >
          <Input.Password autoComplete="new-password" />
        </Form.Item>
        <Form.Item name="roles" label={t('staff.roles')}>
          <Select mode="multiple" optionFilterProp="label" options={roleOptions} data-testid="staff-roles" />
        </Form.Item>
      </Form>
    </Modal>
  );
}

function EditRolesModal({ staff, roleOptions, onClose }: { staff: Staff; roleOptions: Options; onClose: () => void }) {
  const { t } = useTranslation();
  const [form] = Form.useForm<{ roles: string[] }>();
  const [error, setError] = useState<string>();
  const qc = useQueryClient();
  const { message } = App.useApp();
  const save = useMutation({
    mutationFn: (roles: string[]) =>
      updateStaff(staff.id, { roles }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: staffKeys.all });
      void qc.invalidateQueries({ queryKey: rolesKeys.all });
      void message.success(t('common.saved'));
      onClose();
    },
    onError: (err) => setError(applyServerErrors(t, form, err, ['roles'])),
  });
  return (
    <Modal
      open
      title={t('staff.editRolesOf', { name: staff.name })}
      onCancel={onClose}
      okText={t('common.save')}
      cancelText={t('common.cancel')}
      confirmLoading={save.isPending}
      onOk={() => form.submit()}
    >
      {error && <Typography.Paragraph type="danger" role="alert">{error}</Typography.Paragraph>}
      <Form form={form} layout="vertical" initialValues={{ roles: staff.roles }} onFinish={(v) => save.mutate(v.roles)}>
        <Form.Item name="roles" label={t('staff.roles')}>
          <Select mode="multiple" optionFilterProp="label" options={roleOptions} />
        </Form.Item>
      </Form>
    </Modal>
  );
}
