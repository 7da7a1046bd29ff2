import { useEffect, useRef, useState } from 'react';
import { Alert, App, Button, Form, Input, Segmented, Space, Typography } from 'antd';
import type { FormInstance } from 'antd';
import { useMutation } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, useLocation, useNavigate } from 'react-router';
import type { Schemas } from '../api/client';
import { applyServerErrors } from '../common/forms';
import { portalLogin, portalResetPassword, sendPortalCode } from './api';
import { usePortal } from './PortalRoutes';

type Purpose = Schemas['CodePurpose'];

/** "Send code" with a cooldown, for the phone in `form`'s `phone` item. */
export function SendCode({ form, purpose }: { form: FormInstance; purpose: Purpose }) {
  const { t } = useTranslation();
  const { slug } = usePortal();
  const { message } = App.useApp();
  const [wait, setWait] = useState(0);
  const timer = useRef<ReturnType<typeof setInterval>>(undefined);
  useEffect(() => () => clearInterval(timer.current), []);
  const send = useMutation({
    mutationFn: (phone: string) =>
      sendPortalCode(slug, { phone, purpose }),
    onSuccess: () => {
      void message.success(t('portal.codeSent'));
      setWait(60);
      clearInterval(timer.current);
      timer.current = setInterval(() => setWait((w) => (w <= 1 ? (clearInterval(timer.current), 0) : w - 1)), 1000);
    },
    onError: (err) => {
      const rest = applyServerErrors(t, form, err, ['phone']);
      if (rest) void message.error(rest);
    },
  });
  return (
    <Button
      disabled={wait > 0}
      loading={send.isPending}
      data-testid="portal-send-code"
      onClick={() => {
        void form.validateFields(['phone']).then(({ phone }: { phone: string }) => send.mutate(phone.trim()));
      }}
    >
      {wait > 0 ? t('portal.resendIn', { seconds: wait }) : t('portal.sendCode')}
    </Button>
  );
}

export const required = (t: (k: string) => string) => ({ required: true, whitespace: true, message: t('validation.required') });

type LoginMode = 'code' | 'password';

interface LoginValues {
  login: string;
  password?: string;
  code?: string;
}

/** Log in with phone and a code sent by SMS (first), or phone or e-mail and a password. */
export function LoginPage() {
  const { t } = useTranslation();
  const { slug, signIn } = usePortal();
  const navigate = useNavigate();
  const location = useLocation();
  const [mode, setMode] = useState<LoginMode>('code');
  const [form] = Form.useForm<LoginValues>();
  const [codeForm] = Form.useForm<{ phone: string; code: string }>();
  const [error, setError] = useState<string>();
  const notice = (location.state as { notice?: string } | null)?.notice;
  const done = (s: { token: string }) => {
    signIn(s.token);
    navigate(`/m/${slug}`, { replace: true });
  };
  const login = useMutation({
    mutationFn: (v: LoginValues) => portalLogin(slug, { login: v.login.trim(), password: v.password ?? '' }),
    onSuccess: done,
    onError: (err) => setError(applyServerErrors(t, form, err, ['login', 'password'])),
  });
  const byCode = useMutation({
    mutationFn: (v: { phone: string; code: string }) => portalLogin(slug, { login: v.phone.trim(), code: v.code.trim() }),
    onSuccess: done,
    onError: (err) => setError(applyServerErrors(t, codeForm, err, ['phone', 'code'], { login: 'phone' })),
  });
  return (
    <section className="portal-card">
      <Typography.Title level={3}>{t('portal.login.title')}</Typography.Title>
      {notice && <Alert type="success" showIcon message={notice} style={{ marginBottom: 16 }} />}
      {error && <Alert type="error" showIcon role="alert" message={error} style={{ marginBottom: 16 }} />}
      {/* A switch rather than tabs: the portal's first load stays small. */}
      <Segmented
        block
        value={mode}
        style={{ marginBottom: 16 }}
        onChange={(k) => {
          setMode(k as LoginMode);
          setError(undefined);
        }}
        options={[
          { value: 'code', label: <span data-testid="portal-login-tab-code">{t('portal.login.byCode')}</span> },
          { value: 'password', label: <span data-testid="portal-login-tab-password">{t('portal.login.byPassword')}</span> },
        ]}
      />
      {mode === 'code' ? (
              <Form form={codeForm} layout="vertical" name="portal-login-code" requiredMark={false} onFinish={(v) => { setError(undefined); byCode.mutate(v); }}>
                <Form.Item name="phone" label={t('members.f.phone')} rules={[required(t)]}>
                  <Input type="tel" autoComplete="tel" />
                </Form.Item>
                <Form.Item label={t('portal.code')} required>
                  <div className="portal-code-row">
                    <Form.Item name="code" noStyle rules={[required(t)]}>
                      <Input inputMode="numeric" autoComplete="one-time-code" aria-label={t('portal.code')} />
                    </Form.Item>
                    <SendCode form={codeForm} purpose="login" />
                  </div>
                </Form.Item>
                <Button type="primary" htmlType="submit" block size="large" loading={byCode.isPending} data-testid="portal-login-code-submit">
                  {t('portal.login.submit')}
                </Button>
              </Form>
      ) : (
              <Form form={form} layout="vertical" name="portal-login" onFinish={(v) => { setError(undefined); login.mutate(v); }} requiredMark={false}>
                <Form.Item name="login" label={t('portal.login.login')} rules={[required(t)]}>
                  <Input autoComplete="username" inputMode="email" />
                </Form.Item>
                <Form.Item name="password" label={t('common.password')} rules={[required(t)]}>
                  <Input.Password autoComplete="current-password" />
                </Form.Item>
                <Button type="primary" htmlType="submit" block size="large" loading={login.isPending} data-testid="portal-login-submit">
                  {t('portal.login.submit')}
                </Button>
              </Form>
      )}
      <Space direction="vertical" style={{ marginTop: 16 }}>
        <Link to={`/m/${slug}/register`}>{t('portal.login.toRegister')}</Link>
        <Link to={`/m/${slug}/reset`}>{t('portal.login.toReset')}</Link>
      </Space>
    </section>
  );
}

interface ResetValues {
  phone: string;
  code: string;
  new_password: string;
}

export function ResetPage() {
  const { t } = useTranslation();
  const { slug } = usePortal();
  const navigate = useNavigate();
  const [form] = Form.useForm<ResetValues>();
  const [error, setError] = useState<string>();
  const reset = useMutation({
    mutationFn: (v: ResetValues) =>
      portalResetPassword(slug, { phone: v.phone.trim(), code: v.code.trim(), new_password: v.new_password }),
    onSuccess: () => navigate(`/m/${slug}/login`, { state: { notice: t('portal.reset.done') } }),
    onError: (err) => setError(applyServerErrors(t, form, err, ['phone', 'code', 'new_password'])),
  });
  return (
    <section className="portal-card">
      <Typography.Title level={3}>{t('portal.reset.title')}</Typography.Title>
      <Typography.Paragraph type="secondary">{t('portal.reset.intro')}</Typography.Paragraph>
      {error && <Alert type="error" showIcon role="alert" message={error} style={{ marginBottom: 16 }} />}
      <Form form={form} layout="vertical" name="portal-reset" requiredMark={false} onFinish={(v) => { setError(undefined); reset.mutate(v); }}>
        <Form.Item name="phone" label={t('members.f.phone')} rules={[required(t)]}>
          <Input type="tel" autoComplete="tel" />
        </Form.Item>
        <Form.Item label={t('portal.code')} required>
          <div className="portal-code-row">
            <Form.Item name="code" noStyle rules={[required(t)]}>
              <Input inputMode="numeric" autoComplete="one-time-code" aria-label={t('portal.code')} />
            </Form.Item>
            <SendCode form={form} purpose="reset_password" />
          </div>
        </Form.Item>
        <Form.Item name="new_password" label={t('portal.reset.newPassword')} extra={t('portal.passwordHelp')} rules={[required(t), { min: 10, message: t('validation.passwordMin') }]}>
          <Input.Password autoComplete="new-password" />
        </Form.Item>
        <Button type="primary" htmlType="submit" block size="large" loading={reset.isPending} data-testid="portal-reset-submit">
          {t('portal.reset.submit')}
        </Button>
      </Form>
      <div style={{ marginTop: 16 }}>
        <Link to={`/m/${slug}/login`}>{t('portal.register.toLogin')}</Link>
      </div>
    </section>
  );
}

