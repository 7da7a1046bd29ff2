import { useEffect, useRef, useState } from 'react';
import { Alert, App, Button, Form, Input, Select, Space, Typography } from 'antd';
import type { FormInstance } from 'antd';
import { useMutation } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, useLocation, useNavigate } from 'react-router';
import type { Schemas } from '../api/client';
import { applyServerErrors } from '../common/forms';
import { CustomForm, type CustomFormHandle } from '../fields/CustomForm';
import { cleanValues, type ErrorTree } from '../fields/schema';
import { memberProblems } from '../members/errors';
import { GENDERS } from '../members/profile';
import { portalLogin, portalRegister, portalResetPassword, sendPortalCode } from './api';
import { usePortal, usePortalForm } from './PortalRoutes';

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

const required = (t: (k: string) => string) => ({ required: true, whitespace: true, message: t('validation.required') });

export function LoginPage() {
  const { t } = useTranslation();
  const { slug, signIn } = usePortal();
  const navigate = useNavigate();
  const location = useLocation();
  const [form] = Form.useForm<{ login: string; password: string }>();
  const [error, setError] = useState<string>();
  const notice = (location.state as { notice?: string } | null)?.notice;
  const login = useMutation({
    mutationFn: (v: { login: string; password: string }) =>
      portalLogin(slug, { login: v.login.trim(), password: v.password }),
    onSuccess: (s) => {
      signIn(s.token);
      navigate(`/m/${slug}`, { replace: true });
    },
    onError: (err) => setError(applyServerErrors(t, form, err, ['login', 'password'])),
  });
  return (
    <section className="portal-card">
      <Typography.Title level={3}>{t('portal.login.title')}</Typography.Title>
      {notice && <Alert type="success" showIcon message={notice} style={{ marginBottom: 16 }} />}
      {error && <Alert type="error" showIcon role="alert" message={error} style={{ marginBottom: 16 }} />}
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
      <Space direction="vertical" style={{ marginTop: 16 }}>
        <Link to={`/m/${slug}/register`}>{t('portal.login.toRegister')}</Link>
        <Link to={`/m/${slug}/reset`}>{t('portal.login.toReset')}</Link>
      </Space>
    </section>
  );
}

interface RegisterValues {
  name: string;
  phone: string;
  code: string;
  password: string;
  email?: string;
  gender?: string;
  birthday?: string;
}

export function RegisterPage() {
  const { t } = useTranslation();
  const { slug, signIn } = usePortal();
  const navigate = useNavigate();
  const fields = usePortalForm(slug);
  const [form] = Form.useForm<RegisterValues>();
  const customRef = useRef<CustomFormHandle>(null);
  const [custom, setCustom] = useState<Record<string, unknown>>({});
  const [customErrors, setCustomErrors] = useState<ErrorTree>();
  const [error, setError] = useState<string>();
  const register = useMutation({
    mutationFn: (v: RegisterValues) => {
      const profile: Schemas['NewMember'] = { name: v.name.trim(), phone: v.phone.trim(), tags: [], custom: cleanValues(custom) };
      if (v.email?.trim()) profile.email = v.email.trim();
      if (v.gender) profile.gender = v.gender;
      if (v.birthday) profile.birthday = v.birthday;
      return portalRegister(slug, { profile, code: v.code.trim(), password: v.password });
    },
    onSuccess: (s) => {
      signIn(s.token);
      navigate(`/m/${slug}`, { replace: true });
    },
    onError: (err) => {
      // Profile problems come as `profile.<field>`; custom ones as `profile.custom.<key>`.
      const r = memberProblems(t, form, renamed(err), ['name', 'phone', 'code', 'password', 'email', 'gender', 'birthday']);
      setCustomErrors(r.custom);
      setError(r.message);
    },
  });
  return (
    <section className="portal-card">
      <Typography.Title level={3}>{t('portal.register.title')}</Typography.Title>
      {error && <Alert type="error" showIcon role="alert" message={error} style={{ marginBottom: 16 }} />}
      <Form<RegisterValues>
        form={form}
        layout="vertical"
        name="portal-register"
        requiredMark={false}
        onFinish={(v) => {
          setError(undefined);
          setCustomErrors(undefined);
          if (customRef.current && !customRef.current.validateForm()) return;
          register.mutate(v);
        }}
      >
        <Form.Item name="name" label={t('members.f.name')} rules={[required(t)]}>
          <Input autoComplete="name" />
        </Form.Item>
        <Form.Item name="phone" label={t('members.f.phone')} rules={[required(t)]}>
          <Input type="tel" autoComplete="tel" />
        </Form.Item>
        <Form.Item label={t('portal.code')} required>
          <div className="portal-code-row">
            <Form.Item name="code" noStyle rules={[required(t)]}>
              <Input inputMode="numeric" autoComplete="one-time-code" aria-label={t('portal.code')} />
            </Form.Item>
            <SendCode form={form} purpose="register" />
          </div>
        </Form.Item>
        <Form.Item name="password" label={t('common.password')} extra={t('portal.passwordHelp')} rules={[required(t), { min: 10, message: t('validation.passwordMin') }]}>
          <Input.Password autoComplete="new-password" />
        </Form.Item>
        <Form.Item name="email" label={t('members.f.email')}>
          <Input type="email" autoComplete="email" />
        </Form.Item>
        <Form.Item name="gender" label={t('members.f.gender')}>
          <Select allowClear options={GENDERS.map((g) => ({ value: g, label: t(`members.gender.${g}`) }))} />
        </Form.Item>
        <Form.Item name="birthday" label={t('members.f.birthday')}>
          <Input type="date" />
        </Form.Item>
      </Form>
      {fields.data && (
        <CustomForm
          ref={customRef}
          jsonSchema={fields.data.json_schema}
          uiSchema={fields.data.ui_schema}
          value={custom}
          onChange={setCustom}
          errors={customErrors}
        />
      )}
      <Button type="primary" block size="large" loading={register.isPending} onClick={() => form.submit()} data-testid="portal-register-submit">
        {t('portal.register.submit')}
      </Button>
      <div style={{ marginTop: 16 }}>
        <Link to={`/m/${slug}/login`}>{t('portal.register.toLogin')}</Link>
      </div>
    </section>
  );
}

/** `profile.x` -> `x`, so registration problems land on the form's own items. */
function renamed(err: unknown): unknown {
  if (err && typeof err === 'object' && 'fields' in err && Array.isArray((err as { fields: unknown }).fields)) {
    const e = err as { fields: { field: string; problem: string }[] };
    e.fields = e.fields.map((f) => ({ ...f, field: f.field.replace(/^profile\./, '') }));
  }
  return err;
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

