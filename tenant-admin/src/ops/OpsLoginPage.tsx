import { useState } from 'react';
import { Alert, Button, Card, Form, Input, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { Navigate, useNavigate } from 'react-router';
import { applyServerErrors } from '../common/forms';
import { LanguageSwitch } from '../layout/LanguageSwitch';
import { opsLogin } from './api';
import { useOpsAuth } from './OpsAuth';

interface LoginForm {
  email: string;
  password: string;
}

export function OpsLoginPage() {
  const { t } = useTranslation();
  const [form] = Form.useForm<LoginForm>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const { operator, loggedIn } = useOpsAuth();
  const navigate = useNavigate();
  if (operator) return <Navigate to="/ops" replace />;

  const submit = async (v: LoginForm) => {
    setBusy(true);
    setError(undefined);
    try {
      const s = await opsLogin({ email: v.email.trim(), password: v.password });
      await loggedIn(s.token);
      navigate('/ops', { replace: true });
    } catch (err) {
      setError(applyServerErrors(t, form, err, ['email', 'password']));
    } finally {
      setBusy(false);
    }
  };

  const required = { required: true, message: t('validation.required') };
  return (
    <main className="auth-page">
      <Card
        className="auth-card"
        title={<Typography.Title level={1} style={{ fontSize: 22, margin: 0 }}>{t('ops.login.title')}</Typography.Title>}
        extra={<LanguageSwitch />}
      >
        {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} role="alert" />}
        <Form<LoginForm> form={form} layout="vertical" requiredMark={false} onFinish={submit} name="ops-login">
          <Form.Item name="email" label={t('common.email')} rules={[required]}>
            <Input type="email" autoComplete="username" />
          </Form.Item>
          <Form.Item name="password" label={t('common.password')} rules={[required]}>
            <Input.Password autoComplete="current-password" />
          </Form.Item>
          <Button type="primary" htmlType="submit" block loading={busy} data-testid="ops-login-submit">
            {t('login.submit')}
          </Button>
        </Form>
      </Card>
    </main>
  );
}
