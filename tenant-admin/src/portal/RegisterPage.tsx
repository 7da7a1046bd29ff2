// Registration in the portal: the business's own fields (the form library is loaded only
// here and on the profile page), consent, and the code sent to the phone.
import { useRef, useState } from 'react';
import { Alert, Button, Checkbox, Drawer, Form, Input, Select, Typography } from 'antd';
import { useMutation } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import type { Schemas } from '../api/client';
import { CustomForm, type CustomFormHandle } from '../fields/CustomForm';
import { cleanValues, type ErrorTree } from '../fields/schema';
import { memberProblems } from '../members/errors';
import { GENDERS } from '../members/profile';
import { portalRegister } from './api';
import { usePortal, usePortalForm } from './PortalRoutes';
import { SendCode, required } from './AuthPages';

interface RegisterValues {
  name: string;
  phone: string;
  code: string;
  password?: string;
  email?: string;
  gender?: Schemas['NewMember']['gender'];
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
  const [termsOpen, setTermsOpen] = useState(false);
  const [consent, setConsent] = useState(false);
  const [consentMissing, setConsentMissing] = useState(false);
  const privacy = fields.data?.privacy ?? undefined;
  const register = useMutation({
    mutationFn: (v: RegisterValues) => {
      const profile: Schemas['NewMember'] = { name: v.name.trim(), phone: v.phone.trim(), tags: [], custom: cleanValues(custom) };
      if (v.email?.trim()) profile.email = v.email.trim();
      if (v.gender) profile.gender = v.gender;
      if (v.birthday) profile.birthday = v.birthday;
      const body: Schemas['Registration'] = { profile, code: v.code.trim() };
      if (v.password) body.password = v.password;
      if (privacy && consent) body.consent_version = privacy.version;
      return portalRegister(slug, body);
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
          const customOk = !customRef.current || customRef.current.validateForm();
          const consentOk = !privacy || consent;
          setConsentMissing(!consentOk);
          if (!customOk || !consentOk) return;
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
        <Form.Item name="password" label={t('portal.register.password')} extra={t('portal.register.passwordHelp')} rules={[{ min: 10, message: t('validation.passwordMin') }]}>
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
      {privacy && (
        <div className="portal-consent">
          <Checkbox
            checked={consent}
            onChange={(e) => { setConsent(e.target.checked); setConsentMissing(false); }}
            data-testid="portal-consent"
          >
            {t('portal.consent.agree')}
          </Checkbox>
          <Button type="link" size="small" style={{ padding: 0 }} onClick={() => setTermsOpen(true)} data-testid="portal-terms-open">
            {t('portal.consent.terms')}
          </Button>
          {consentMissing && (
            <Typography.Text type="danger" role="alert" style={{ display: 'block' }} data-testid="portal-consent-error">{t('portal.consent.required')}</Typography.Text>
          )}
          <Drawer
            open={termsOpen}
            onClose={() => setTermsOpen(false)}
            placement="bottom"
            height="80%"
            title={t('portal.consent.title', { version: privacy.version })}
            footer={
              <Button type="primary" block onClick={() => { setConsent(true); setConsentMissing(false); setTermsOpen(false); }} data-testid="portal-terms-agree">
                {t('portal.consent.agreeButton')}
              </Button>
            }
          >
            <div className="portal-terms" data-testid="portal-terms">{privacy.text}</div>
          </Drawer>
        </div>
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
