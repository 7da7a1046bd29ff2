import { useMemo, useState } from 'react';
import { App, Alert, Button, Checkbox, Form, Input, Modal, Popconfirm, Space, Table, Tag, Tooltip, Typography } from 'antd';
import { DeleteOutlined, LockOutlined, PlusOutlined } from '@ant-design/icons';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { applyServerErrors, errorText } from '../common/forms';
import { useAuth } from '../auth/AuthContext';
import {
  dirtyRoles,
  discard,
  grantable,
  groupByResource,
  holds,
  initMatrix,
  markSaved,
  pendingChanges,
  rebase,
  toggleCell,
  type MatrixState,
} from './matrix';
import { sessionKeys } from '../auth/api';
import { staffKeys } from '../staff/api';
import { createRole, deleteRole, rolesKeys, updateRole } from './api';
import { MAX_ROLE_NAME, permissionText, roleLabel, usePermissions, useRoles, type PermissionInfo, type Role } from './queries';
import { Advanced, useCodeFromName } from '../common/Advanced';
import { CODE_RULES } from '../common/codes';

type Row = { kind: 'group'; key: string; resource: string } | { kind: 'perm'; key: string; perm: PermissionInfo };

export function RolesPage() {
  const { t } = useTranslation();
  const { me, can } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const manage = can('roles:manage');
  const roles = useRoles();
  const perms = usePermissions();
  const [state, setState] = useState<MatrixState>(() => initMatrix([]));
  const [creating, setCreating] = useState(false);
  const [saving, setSaving] = useState(false);

  // Fold fresh server data into the matrix during render (not in an effect), so the
  // checkboxes never show a frame of stale state.
  const [seen, setSeen] = useState<Role[]>();
  if (roles.data && roles.data !== seen) {
    setSeen(roles.data);
    setState(rebase(state, roles.data));
  }

  const rows = useMemo<Row[]>(
    () =>
      groupByResource(perms.data ?? []).flatMap((g) => [
        { kind: 'group' as const, key: `g:${g.resource}`, resource: g.resource },
        ...g.items.map((p) => ({ kind: 'perm' as const, key: p.name, perm: p })),
      ]),
    [perms.data],
  );

  const dirty = dirtyRoles(state);
  const mine = me?.permissions ?? [];

  const saveAll = async () => {
    setSaving(true);
    let next = state;
    try {
      for (const change of pendingChanges(state)) {
        const saved = await updateRole(change.role, { permissions: change.permissions });
        next = markSaved(next, saved.name, saved.permissions);
      }
      void message.success(t('common.saved'));
    } catch (err) {
      void message.error(errorText(t, err));
    } finally {
      setState(next);
      setSaving(false);
      void qc.invalidateQueries({ queryKey: rolesKeys.all });
      void qc.invalidateQueries({ queryKey: sessionKeys.all });
    }
  };

  const remove = useMutation({
    mutationFn: deleteRole,
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: rolesKeys.all });
      void qc.invalidateQueries({ queryKey: staffKeys.all });
      void message.success(t('roles.deleted'));
    },
    onError: (err) => void message.error(errorText(t, err)),
  });

  const roleColumn = (r: Role) => ({
    key: r.name,
    align: 'center' as const,
    title: (
      <Space direction="vertical" size={0} align="center">
        <span title={r.description || undefined}>
          {r.builtin && (
            <Tooltip title={t('roles.builtinHint')}>
              <LockOutlined aria-label={t('roles.builtin')} style={{ marginRight: 4 }} />
            </Tooltip>
          )}
          {roleLabel(t, r.name, roles.data)}
          {dirty.includes(r.name) && <Tag color="orange" style={{ marginLeft: 4 }}>{t('roles.unsaved')}</Tag>}
        </span>
        <Typography.Text type="secondary" style={{ fontSize: 12, fontWeight: 'normal' }}>
          {t('roles.holders', { count: r.holders })}
        </Typography.Text>
        {manage && !r.builtin && (
          <Popconfirm
            title={t('roles.deleteConfirm', { name: roleLabel(t, r.name, roles.data) })}
            okText={t('common.delete')}
            cancelText={t('common.cancel')}
            onConfirm={() => remove.mutateAsync(r.name)}
          >
            <Button size="small" type="text" danger icon={<DeleteOutlined />} aria-label={t('roles.deleteRole', { name: roleLabel(t, r.name, roles.data) })} />
          </Popconfirm>
        )}
      </Space>
    ),
    onCell: (row: Row) => (row.kind === 'group' ? { colSpan: 0 } : {}),
    render: (_: unknown, row: Row) => {
      if (row.kind === 'group') return null;
      const editable = manage && !r.builtin && grantable(row.perm.name, mine);
      return (
        <Checkbox
          checked={holds(state, r.name, row.perm.name)}
          disabled={!editable}
          aria-label={`${roleLabel(t, r.name, roles.data)}: ${row.perm.name}`}
          data-testid={`cell-${r.name}-${row.perm.name}`}
          onChange={() => setState((s) => toggleCell(s, r.name, row.perm.name))}
        />
      );
    },
  });

  const roleList = roles.data ?? [];
  return (
    <>
      <div className="page-toolbar">
        <Typography.Title level={2}>{t('roles.title')}</Typography.Title>
        {manage && (
          <Space wrap>
            {dirty.length > 0 && (
              <Button onClick={() => setState((s) => discard(s))} disabled={saving}>
                {t('roles.discard')}
              </Button>
            )}
            <Button
              type="primary"
              disabled={dirty.length === 0}
              loading={saving}
              onClick={saveAll}
              data-testid="roles-save"
            >
              {t('roles.save', { count: dirty.length })}
            </Button>
            <Button icon={<PlusOutlined />} onClick={() => setCreating(true)} data-testid="role-add">
              {t('roles.add')}
            </Button>
          </Space>
        )}
      </div>
      <Typography.Paragraph type="secondary">
        {manage ? t('roles.intro') : t('roles.readOnly')}
      </Typography.Paragraph>
      {(roles.isError || perms.isError) && (
        <Alert type="error" showIcon message={errorText(t, roles.error ?? perms.error)} style={{ marginBottom: 16 }} />
      )}
      <Table<Row>
        rowKey="key"
        size="small"
        bordered
        loading={roles.isPending || perms.isPending}
        dataSource={rows}
        pagination={false}
        scroll={{ x: 'max-content' }}
        data-testid="permission-matrix"
        columns={[
          {
            key: 'permission',
            title: t('roles.permission'),
            fixed: 'left',
            width: 260,
            onCell: (row) => (row.kind === 'group' ? { colSpan: roleList.length + 1 } : {}),
            render: (_, row) =>
              row.kind === 'group' ? (
                <Typography.Text strong>{t(`resources.${row.resource}`, { defaultValue: row.resource })}</Typography.Text>
              ) : (
                <div className="matrix-perm">
                  <Typography.Text code>{row.perm.name}</Typography.Text>
                  <small>{permissionText(t, row.perm)}</small>
                </div>
              ),
          },
          ...roleList.map(roleColumn),
        ]}
      />
      {creating && <CreateRoleModal onClose={() => setCreating(false)} />}
    </>
  );
}

interface NewRoleForm {
  name: string;
  display_name: string;
}

function CreateRoleModal({ onClose }: { onClose: () => void }) {
  const { t } = useTranslation();
  const [form] = Form.useForm<NewRoleForm>();
  const [error, setError] = useState<string>();
  const qc = useQueryClient();
  const { message } = App.useApp();
  const roles = useRoles();
  // The code is made from the name typed, until the owner types a code under 高级.
  const [auto, setAuto] = useState(true);
  const given = Form.useWatch('display_name', form) ?? '';
  useCodeFromName(given, auto, CODE_RULES.role, (roles.data ?? []).map((r) => r.name), (code) => form.setFieldValue('name', code));
  const create = useMutation({
    mutationFn: (v: NewRoleForm) =>
      createRole({ name: v.name.trim(), display_name: v.display_name?.trim() ?? '', description: '', permissions: [] }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: rolesKeys.all });
      void message.success(t('roles.created'));
      onClose();
    },
    onError: (err) => setError(applyServerErrors(t, form, err, ['name', 'display_name', 'permissions'])),
  });
  return (
    <Modal
      open
      title={t('roles.add')}
      onCancel={onClose}
      okText={t('common.create')}
      cancelText={t('common.cancel')}
      confirmLoading={create.isPending}
      onOk={() => form.submit()}
    >
      <Typography.Paragraph type="secondary">{t('roles.addHelp')}</Typography.Paragraph>
      {error && <Typography.Paragraph type="danger" role="alert">{error}</Typography.Paragraph>}
      <Form<NewRoleForm>
        form={form}
        layout="vertical"
        name="new-role"
        onFinish={(v) => {
          setError(undefined);
          create.mutate(v);
        }}
      >
        <Form.Item
          name="display_name"
          label={t('advanced.roleName')}
          extra={t('advanced.roleNameHelp')}
          rules={[{ required: true, message: t('validation.required') }]}
        >
          <Input maxLength={MAX_ROLE_NAME} />
        </Form.Item>
        <Form.Item noStyle shouldUpdate>
          {() => (
            <Advanced forceOpen={form.getFieldError('name').length > 0} testId="new-role-advanced">
              <Form.Item
                name="name"
                label={t('advanced.roleCode')}
                extra={
                  <>
                    {t('roles.nameHelp')}
                    <br />
                    {t('advanced.codeAuto')}
                  </>
                }
                rules={[{ required: true, message: t('validation.required') }]}
              >
                <Input autoCapitalize="none" spellCheck={false} onChange={() => setAuto(false)} />
              </Form.Item>
            </Advanced>
          )}
        </Form.Item>
      </Form>
    </Modal>
  );
}
