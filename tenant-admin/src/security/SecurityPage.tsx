import { useState } from 'react';
import { Alert, Button, Card, Divider, Form, Input, List, Space, Switch, Table, Tag, Typography, message } from 'antd';
import { CopyOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { QRCodeSVG } from 'qrcode.react';
import { useTranslation } from 'react-i18next';
import { useLocation } from 'react-router';
import type { Schemas } from '../api/client';
import { applyServerErrors, errorText } from '../common/forms';
import { useAuth } from '../auth/AuthContext';
import {
  confirmTwoFactor,
  disableTwoFactor,
  enrolTwoFactor,
  fetchMyLogins,
  fetchSecuritySettings,
  fetchTwoFactor,
  renewRecoveryCodes,
  saveSecuritySettings,
  securityKeys,
} from './api';

/** My two-factor codes and login history; the owners' two-factor setting for those who may change settings. */
export function SecurityPage() {
  const { t } = useTranslation();
  const { me } = useAuth();
  const canSettings = me?.permissions.includes('settings:manage') ?? false;
  const location = useLocation();
  const setupRequired = (location.state as { setupRequired?: boolean } | null)?.setupRequired ?? false;
  return (
    <Space direction="vertical" size="large" style={{ width: '100%' }}>
      <Typography.Title level={1} style={{ fontSize: 22, margin: 0 }}>
        {t('security.title')}
      </Typography.Title>
      {setupRequired && <Alert type="warning" showIcon role="alert" message={t('security.login.setupRequired')} />}
      <TwoFactorCard />
      {canSettings && <OwnersSetting />}
      <LoginHistory />
    </Space>
  );
}

function TwoFactorCard() {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const status = useQuery({ queryKey: securityKeys.status(), queryFn: fetchTwoFactor });
  const [enrolment, setEnrolment] = useState<Schemas['TwoFactorEnrolment']>();
  const [codes, setCodes] = useState<string[]>();
  const [confirmForm] = Form.useForm<{ code: string }>();
  const [offForm] = Form.useForm<{ password: string; code: string }>();
  const [renewForm] = Form.useForm<{ password: string; code: string }>();
  const [error, setError] = useState<string>();

  const start = useMutation({
    mutationFn: enrolTwoFactor,
    onSuccess: (e) => {
      setEnrolment(e);
      setError(undefined);
    },
    onError: (err) => setError(applyServerErrors(t, confirmForm, err, [])),
  });
  const confirm = useMutation({
    mutationFn: confirmTwoFactor,
    onSuccess: (r) => {
      setCodes(r.recovery_codes);
      setEnrolment(undefined);
      void qc.invalidateQueries({ queryKey: securityKeys.all });
    },
    onError: (err) => setError(applyServerErrors(t, confirmForm, err, ['code'])),
  });
  const off = useMutation({
    mutationFn: disableTwoFactor,
    onSuccess: () => {
      offForm.resetFields();
      setCodes(undefined);
      void qc.invalidateQueries({ queryKey: securityKeys.all });
    },
    onError: (err) => setError(applyServerErrors(t, offForm, err, ['password', 'code'])),
  });
  const renew = useMutation({
    mutationFn: renewRecoveryCodes,
    onSuccess: (r) => {
      renewForm.resetFields();
      setError(undefined);
      setCodes(r.recovery_codes);
      void qc.invalidateQueries({ queryKey: securityKeys.all });
    },
    onError: (err) => setError(applyServerErrors(t, renewForm, err, ['password', 'code'])),
  });

  const enabled = status.data?.enabled ?? false;
  return (
    <Card title={t('security.twoFactor.title')} loading={status.isLoading}>
      {error && <Alert type="error" showIcon message={error} role="alert" style={{ marginBottom: 16 }} />}
      {codes && (
        <Alert
          type="warning"
          showIcon
          style={{ marginBottom: 16 }}
          message={t('security.recovery.title')}
          description={
            <>
              <Typography.Paragraph>{t('security.recovery.help')}</Typography.Paragraph>
              <List
                size="small"
                dataSource={codes}
                renderItem={(c) => (
                  <List.Item>
                    <Typography.Text code data-testid="recovery-code">
                      {c}
                    </Typography.Text>
                  </List.Item>
                )}
              />
              <Button
                icon={<CopyOutlined />}
                onClick={() => {
                  void navigator.clipboard?.writeText(codes.join('\n'));
                  void message.success(t('security.recovery.copied'));
                }}
              >
                {t('security.recovery.copy')}
              </Button>
            </>
          }
        />
      )}
      {enabled ? (
        <>
          <Typography.Paragraph>
            <Tag color="green">{t('security.twoFactor.on')}</Tag>{' '}
            {t('security.twoFactor.codesLeft', { n: status.data?.recovery_codes_left ?? 0 })}
          </Typography.Paragraph>
          <Form form={offForm} layout="vertical" requiredMark={false} onFinish={(v) => off.mutate(v)} style={{ maxWidth: 360 }}>
            <Form.Item name="password" label={t('common.password')} rules={[{ required: true, message: t('validation.required') }]}>
              <Input.Password autoComplete="current-password" />
            </Form.Item>
            <Form.Item name="code" label={t('security.code')} rules={[{ required: true, message: t('validation.required') }]}>
              <Input autoComplete="one-time-code" inputMode="numeric" />
            </Form.Item>
            <Button danger htmlType="submit" loading={off.isPending}>
              {t('security.twoFactor.turnOff')}
            </Button>
          </Form>
          <Divider />
          <Typography.Title level={2} style={{ fontSize: 16 }}>
            {t('security.recovery.renewTitle')}
          </Typography.Title>
          <Typography.Paragraph>{t('security.recovery.renewHelp')}</Typography.Paragraph>
          <Form
            form={renewForm}
            name="renew"
            layout="vertical"
            requiredMark={false}
            onFinish={(v) => renew.mutate(v)}
            style={{ maxWidth: 360 }}
            data-testid="renew-codes-form"
          >
            <Form.Item name="password" label={t('common.password')} rules={[{ required: true, message: t('validation.required') }]}>
              <Input.Password autoComplete="current-password" />
            </Form.Item>
            <Form.Item name="code" label={t('security.code')} rules={[{ required: true, message: t('validation.required') }]}>
              <Input autoComplete="one-time-code" inputMode="numeric" />
            </Form.Item>
            <Button htmlType="submit" loading={renew.isPending} data-testid="renew-codes">
              {t('security.recovery.renew')}
            </Button>
          </Form>
        </>
      ) : enrolment ? (
        <Space direction="vertical" style={{ width: '100%' }}>
          <Typography.Paragraph>{t('security.twoFactor.scan')}</Typography.Paragraph>
          <div style={{ background: '#fff', padding: 8, width: 'fit-content' }} data-testid="totp-qr">
            <QRCodeSVG value={enrolment.otpauth_uri} size={184} />
          </div>
          <Typography.Paragraph>
            {t('security.twoFactor.secret')}{' '}
            <Typography.Text code copyable data-testid="totp-secret" style={{ wordBreak: 'break-all' }}>
              {enrolment.secret}
            </Typography.Text>
          </Typography.Paragraph>
          <Form form={confirmForm} layout="vertical" requiredMark={false} onFinish={(v) => confirm.mutate(v)} style={{ maxWidth: 360 }}>
            <Form.Item name="code" label={t('security.code')} rules={[{ required: true, message: t('validation.required') }]}>
              <Input autoComplete="one-time-code" inputMode="numeric" />
            </Form.Item>
            <Button type="primary" htmlType="submit" loading={confirm.isPending} data-testid="totp-confirm">
              {t('security.twoFactor.confirm')}
            </Button>
          </Form>
        </Space>
      ) : (
        <>
          <Typography.Paragraph>{t('security.twoFactor.explain')}</Typography.Paragraph>
          <Button type="primary" onClick={() => start.mutate()} loading={start.isPending} data-testid="totp-start">
            {t('security.twoFactor.turnOn')}
          </Button>
        </>
      )}
    </Card>
  );
}

function OwnersSetting() {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const settings = useQuery({ queryKey: securityKeys.settings(), queryFn: fetchSecuritySettings });
  const save = useMutation({
    mutationFn: saveSecuritySettings,
    onSuccess: () => void qc.invalidateQueries({ queryKey: securityKeys.settings() }),
  });
  return (
    <Card title={t('security.settings.title')} loading={settings.isLoading}>
      {settings.error && <Alert type="error" showIcon role="alert" message={errorText(t, settings.error)} style={{ marginBottom: 16 }} />}
      {save.error && <Alert type="error" showIcon role="alert" message={errorText(t, save.error)} style={{ marginBottom: 16 }} />}
      <Space>
        <Switch
          checked={settings.data?.owners_require_2fa ?? false}
          loading={save.isPending}
          onChange={(on) => save.mutate({ owners_require_2fa: on })}
          aria-label={t('security.settings.ownersRequire2fa')}
        />
        <span>{t('security.settings.ownersRequire2fa')}</span>
      </Space>
    </Card>
  );
}

function LoginHistory() {
  const { t, i18n } = useTranslation();
  const logins = useQuery({ queryKey: securityKeys.logins(), queryFn: fetchMyLogins });
  return (
    <Card title={t('security.history.title')}>
      <Table
        rowKey={(r) => `${r.at}-${r.method}-${String(r.success)}`}
        loading={logins.isLoading}
        dataSource={logins.data ?? []}
        pagination={{ pageSize: 20 }}
        scroll={{ x: true }}
        size="small"
        columns={[
          {
            title: t('security.history.at'),
            dataIndex: 'at',
            render: (at: string) => new Date(at).toLocaleString(i18n.language),
          },
          {
            title: t('security.history.result'),
            render: (_: unknown, r) =>
              r.success ? (
                <Tag color="green">{t('security.history.success')}</Tag>
              ) : (
                <Tag color="red">{t(`security.failure.${r.failure ?? 'wrong_password'}`)}</Tag>
              ),
          },
          { title: t('security.history.method'), dataIndex: 'method', render: (m: string) => t(`security.method.${m}`) },
          { title: t('security.history.ip'), dataIndex: 'ip', render: (ip?: string) => ip ?? '—' },
          {
            title: t('security.history.device'),
            dataIndex: 'user_agent',
            render: (ua?: string) => <Typography.Text ellipsis={{ tooltip: ua }} style={{ maxWidth: 240 }}>{ua ?? '—'}</Typography.Text>,
          },
        ]}
      />
    </Card>
  );
}
