import { useState } from 'react';
import { Alert, Button, Card, Form, Input, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link, Navigate, useLocation, useNavigate } from 'react-router';
import { ApiProblem } from '../api/errors';
import { applyServerErrors } from '../common/forms';
import { LanguageSwitch } from '../layout/LanguageSwitch';
import { login } from './api';
import { useAuth } from './AuthContext';
import { lastTenant, rememberTenant } from './token';

interface LoginForm {
  tenant: string;
  email: string;
  password: string;
  code?: string;
}

export function LoginPage() {
  const { t } = useTranslation();
  const [form] = Form.useForm<LoginForm>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  // The account uses two-factor codes: the code step is shown (the password stays in the form).
  const [needCode, setNeedCode] = useState(false);
  const { me, loggedIn } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const from = (location.state as { from?: string } | null)?.from ?? '/';

  if (me) return <Navigate to={from} replace />;

  const submit = async (values: LoginForm) => {
    setBusy(true);
    setError(undefined);
    try {
      const code = values.code?.trim();
      const session = await login({
        tenant: values.tenant.trim(),
        email: values.email.trim(),
        password: values.password,
        ...(code ? { code } : {}),
      });
      rememberTenant(values.tenant.trim());
      await loggedIn(session.token);
      navigate(session.two_factor_setup_required ? '/security' : from, {
        replace: true,
        state: session.two_factor_setup_required ? { setupRequired: true } : undefined,
      });
    } catch (err) {
      if (err instanceof ApiProblem && err.code === 'two_factor_required') {
        setNeedCode(true);
        return;
      }
      setError(applyServerErrors(t, form, err, ['tenant', 'email', 'password', 'code']));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="auth-page">
      <Card
        className="auth-card"
        title={<Typography.Title level={1} style={{ fontSize: 22, margin: 0 }}>{t('login.title')}</Typography.Title>}
        extra={<LanguageSwitch />}
      >
        {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} role="alert" />}
        <Form<LoginForm>
          form={form}
          layout="vertical"
          requiredMark={false}
          initialValues={{ tenant: lastTenant() }}
          onFinish={submit}
          name="login"
        >
          <Form.Item
            name="tenant"
            label={t('login.tenant')}
            extra={t('login.tenantHelp')}
            rules={[{ required: true, message: t('validation.required') }]}
          >
            <Input autoComplete="organization" autoCapitalize="none" spellCheck={false} />
          </Form.Item>
          <Form.Item
            name="email"
            label={t('common.email')}
            rules={[{ required: true, message: t('validation.required') }]}
          >
            <Input type="email" autoComplete="username" />
          </Form.Item>
          <Form.Item
            name="password"
            label={t('common.password')}
            rules={[{ required: true, message: t('validation.required') }]}
          >
            <Input.Password autoComplete="current-password" />
          </Form.Item>
          {needCode && (
            <>
              <Alert type="info" showIcon message={t('security.login.codeHelp')} style={{ marginBottom: 16 }} />
              <Form.Item
                name="code"
                label={t('security.code')}
                rules={[{ required: true, message: t('validation.required') }]}
              >
                <Input autoComplete="one-time-code" autoFocus data-testid="login-code" />
              </Form.Item>
            </>
          )}
          <Button type="primary" htmlType="submit" block loading={busy} data-testid="login-submit">
            {t('login.submit')}
          </Button>
        </Form>
        <Typography.Paragraph style={{ marginTop: 12, marginBottom: 0, textAlign: 'right' }}>
          <Link to="/forgot-password" data-testid="forgot-password">{t('passwordReset.link')}</Link>
        </Typography.Paragraph>
        <Typography.Paragraph style={{ marginTop: 16, marginBottom: 0, textAlign: 'center' }}>
          {t('login.noAccount')} <Link to="/signup">{t('login.signupLink')}</Link>
        </Typography.Paragraph>
      </Card>
    </main>
  );
}
