import { useState } from 'react';
import { Alert, Button, Card, Form, Input, Result, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { applyServerErrors } from '../common/forms';
import { LanguageSwitch } from '../layout/LanguageSwitch';
import { confirmPasswordReset, requestPasswordReset } from './api';
import { lastTenant } from './token';

/** 忘记密码: asks for a reset link by e-mail; the answer is the same whether or not the account exists. */
export function ForgotPasswordPage() {
  const { t } = useTranslation();
  const [form] = Form.useForm<{ tenant: string; email: string }>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [sent, setSent] = useState(false);
  const submit = async (v: { tenant: string; email: string }) => {
    setBusy(true);
    setError(undefined);
    try {
      await requestPasswordReset({ tenant: v.tenant.trim(), email: v.email.trim() });
      setSent(true);
    } catch (err) {
      setError(applyServerErrors(t, form, err, ['tenant', 'email']));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="auth-page">
      <Card
        className="auth-card"
        title={<Typography.Title level={1} style={{ fontSize: 22, margin: 0 }}>{t('passwordReset.title')}</Typography.Title>}
        extra={<LanguageSwitch />}
      >
        {sent ? (
          <div data-testid="reset-sent">
            <Result status="success" title={t('passwordReset.sent')} subTitle={t('passwordReset.sentHelp')} />
          </div>
        ) : (
          <>
            <Typography.Paragraph type="secondary">{t('passwordReset.intro')}</Typography.Paragraph>
            {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} role="alert" />}
            <Form form={form} layout="vertical" requiredMark={false} initialValues={{ tenant: lastTenant() }} onFinish={submit} name="forgot">
              <Form.Item name="tenant" label={t('login.tenant')} rules={[{ required: true, message: t('validation.required') }]}>
                <Input autoComplete="organization" autoCapitalize="none" spellCheck={false} />
              </Form.Item>
              <Form.Item name="email" label={t('common.email')} rules={[{ required: true, message: t('validation.required') }]}>
                <Input type="email" autoComplete="username" />
              </Form.Item>
              <Button type="primary" htmlType="submit" block loading={busy} data-testid="reset-request">
                {t('passwordReset.send')}
              </Button>
            </Form>
          </>
        )}
        <Typography.Paragraph style={{ marginTop: 16, marginBottom: 0, textAlign: 'center' }}>
          <Link to="/login">{t('passwordReset.backToLogin')}</Link>
        </Typography.Paragraph>
      </Card>
    </main>
  );
}

/** The page a reset link opens: a new password, once. */
export function ResetPasswordPage() {
  const { t } = useTranslation();
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const [form] = Form.useForm<{ new_password: string; confirm: string }>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  const submit = async (v: { new_password: string }) => {
    setBusy(true);
    setError(undefined);
    try {
      await confirmPasswordReset({ token, new_password: v.new_password });
      setDone(true);
    } catch (err) {
      setError(applyServerErrors(t, form, err, ['new_password']));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="auth-page">
      <Card
        className="auth-card"
        title={<Typography.Title level={1} style={{ fontSize: 22, margin: 0 }}>{t('passwordReset.newTitle')}</Typography.Title>}
        extra={<LanguageSwitch />}
      >
        {done ? (
          <div data-testid="reset-done">
            <Result status="success" title={t('passwordReset.done')} extra={<Link to="/login">{t('passwordReset.backToLogin')}</Link>} />
          </div>
        ) : (
          <>
            {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} role="alert" />}
            <Form form={form} layout="vertical" requiredMark={false} onFinish={submit} name="reset">
              <Form.Item
                name="new_password"
                label={t('passwordReset.newPassword')}
                extra={t('signup.passwordHelp')}
                rules={[{ required: true, message: t('validation.required') }]}
              >
                <Input.Password autoComplete="new-password" />
              </Form.Item>
              <Form.Item
                name="confirm"
                label={t('passwordReset.confirm')}
                dependencies={['new_password']}
                rules={[
                  { required: true, message: t('validation.required') },
                  ({ getFieldValue }) => ({
                    validator: (_, v) =>
                      !v || v === getFieldValue('new_password') ? Promise.resolve() : Promise.reject(new Error(t('passwordReset.mismatch'))),
                  }),
                ]}
              >
                <Input.Password autoComplete="new-password" />
              </Form.Item>
              <Button type="primary" htmlType="submit" block loading={busy} disabled={!token} data-testid="reset-confirm">
                {t('passwordReset.save')}
              </Button>
            </Form>
          </>
        )}
      </Card>
    </main>
  );
}
