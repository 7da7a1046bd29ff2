import { useState } from 'react';
import { Alert, Button, Card, Form, Input, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { applyServerErrors } from '../common/forms';
import { LanguageSwitch } from '../layout/LanguageSwitch';
import { useAuth } from '../auth/AuthContext';
import { rememberTenant } from '../auth/token';
import { currentLanguage } from '../i18n';
import { signup } from './api';

interface SignupForm {
  business_name: string;
  slug: string;
  owner_name: string;
  email: string;
  password: string;
}

const FIELDS = ['business_name', 'slug', 'owner_name', 'email', 'password'] as const;

export function SignupPage() {
  const { t } = useTranslation();
  const [form] = Form.useForm<SignupForm>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const { loggedIn } = useAuth();
  const navigate = useNavigate();

  const submit = async (v: SignupForm) => {
    setBusy(true);
    setError(undefined);
    try {
      const result = await signup({
        business_name: v.business_name.trim(),
        slug: v.slug.trim(),
        owner_name: v.owner_name.trim(),
        email: v.email.trim(),
        password: v.password,
        // The business starts in the language it signed up in.
        locale: currentLanguage(),
      });
      rememberTenant(result.tenant.slug);
      await loggedIn(result.session.token);
      navigate('/', { replace: true });
    } catch (err) {
      setError(applyServerErrors(t, form, err, FIELDS));
    } finally {
      setBusy(false);
    }
  };

  const required = { required: true, message: t('validation.required') };
  return (
    <main className="auth-page">
      <Card
        className="auth-card"
        title={<Typography.Title level={1} style={{ fontSize: 22, margin: 0 }}>{t('signup.title')}</Typography.Title>}
        extra={<LanguageSwitch />}
      >
        <Typography.Paragraph type="secondary">{t('signup.intro')}</Typography.Paragraph>
        {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} role="alert" />}
        <Form<SignupForm> form={form} layout="vertical" requiredMark={false} onFinish={submit} name="signup">
          <Form.Item name="business_name" label={t('signup.businessName')} rules={[required]}>
            <Input autoComplete="organization" />
          </Form.Item>
          <Form.Item
            name="slug"
            label={t('signup.slug')}
            extra={t('signup.slugHelp')}
            rules={[
              required,
              { pattern: /^[a-z][a-z0-9-]{2,39}$/, message: t('signup.slugRule') },
            ]}
          >
            <Input autoCapitalize="none" spellCheck={false} />
          </Form.Item>
          <Form.Item name="owner_name" label={t('signup.ownerName')} rules={[required]}>
            <Input autoComplete="name" />
          </Form.Item>
          <Form.Item name="email" label={t('common.email')} rules={[required]}>
            <Input type="email" autoComplete="email" />
          </Form.Item>
          <Form.Item
            name="password"
            label={t('common.password')}
            extra={t('signup.passwordHelp')}
            rules={[required, { min: 10, message: t('validation.passwordMin') }]}
          >
            <Input.Password autoComplete="new-password" />
          </Form.Item>
          <Button type="primary" htmlType="submit" block loading={busy} data-testid="signup-submit">
            {t('signup.submit')}
          </Button>
        </Form>
        <Typography.Paragraph style={{ marginTop: 16, marginBottom: 0, textAlign: 'center' }}>
          {t('signup.haveAccount')} <Link to="/login">{t('signup.loginLink')}</Link>
        </Typography.Paragraph>
      </Card>
    </main>
  );
}
