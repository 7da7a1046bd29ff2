import { useMemo, useRef, useState } from 'react';
import { Alert, App, Button, Form, Input, Select, Space, Spin, Typography } from 'antd';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { Schemas } from '../api/client';
import { applyServerErrors, errorText } from '../common/forms';
import { CustomForm, type CustomFormHandle } from '../fields/CustomForm';
import { type ErrorTree } from '../fields/schema';
import { memberProblems } from '../members/errors';
import { GENDERS, type Member } from '../members/profile';
import { portalKeys, updatePortalMe } from './api';
import { usePortal, usePortalForm, usePortalMe } from './PortalRoutes';
import { SendCode } from './AuthPages';
import { formatPhone } from './phone';

interface Values {
  name: string;
  email?: string;
  gender?: string;
  birthday?: string;
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** My profile: the built-ins members may change and the fields the business lets them edit. */
export function ProfilePage() {
  const { t } = useTranslation();
  const me = usePortalMe();
  if (me.isPending) return <Spin style={{ display: 'block', margin: 48 }} />;
  if (me.isError) return <Alert type="error" showIcon message={errorText(t, me.error)} />;
  return <ProfileForm member={me.data} />;
}

function ProfileForm({ member }: { member: Member }) {
  const { t } = useTranslation();
  const { slug, token } = usePortal();
  const qc = useQueryClient();
  const { message } = App.useApp();
  const fields = usePortalForm(slug);
  const editable = fields.data?.member_editable ?? [];
  // Fields members see but may not change: shown, read-only.
  const readOnly = useMemo(() => {
    const schema = fields.data?.json_schema as { properties?: Record<string, unknown> } | undefined;
    return Object.keys(schema?.properties ?? {}).filter((k) => !editable.includes(k));
  }, [fields.data, editable]);
  const readOnlyValues = useMemo(() => {
    const all = isObj(member.custom) ? member.custom : {};
    return Object.fromEntries(Object.entries(all).filter(([k]) => readOnly.includes(k)));
  }, [member.custom, readOnly]);
  const [form] = Form.useForm<Values>();
  const customBefore = useMemo(() => {
    const all = isObj(member.custom) ? member.custom : {};
    return Object.fromEntries(Object.entries(all).filter(([k]) => editable.includes(k)));
  }, [member.custom, editable]);
  const [custom, setCustom] = useState<Record<string, unknown>>(customBefore);
  const customRef = useRef<CustomFormHandle>(null);
  const [customErrors, setCustomErrors] = useState<ErrorTree>();
  const [error, setError] = useState<string>();
  const [changingPhone, setChangingPhone] = useState(false);

  const save = useMutation({
    mutationFn: (v: Values) => {
      const body: Record<string, unknown> = {};
      const str = (s?: string) => (s ?? '').trim();
      if (str(v.name) !== member.name) body.name = str(v.name);
      if (str(v.email) !== (member.email ?? '')) body.email = str(v.email) || null;
      if ((v.gender ?? '') !== (member.gender ?? '')) body.gender = v.gender || null;
      if (str(v.birthday) !== (member.birthday ?? '')) body.birthday = str(v.birthday) || null;
      const changed: Record<string, unknown> = {};
      for (const k of editable) {
        const a = customBefore[k];
        const b = custom[k] === '' ? undefined : custom[k];
        if (JSON.stringify(a) !== JSON.stringify(b)) changed[k] = b === undefined ? null : b;
      }
      if (Object.keys(changed).length) body.custom = changed;
      return updatePortalMe(slug, body as Schemas['ProfileChange']);
    },
    onSuccess: (m) => {
      qc.setQueryData(portalKeys.me(slug, token), m);
      void message.success(t('common.saved'));
    },
    onError: (err) => {
      const r = memberProblems(t, form, err, ['name', 'email', 'gender', 'birthday']);
      setCustomErrors(r.custom);
      setError(r.message);
    },
  });

  return (
    <section className="portal-card">
      <Typography.Title level={3}>{t('portal.profile.title')}</Typography.Title>
      {error && <Alert type="error" showIcon role="alert" message={error} style={{ marginBottom: 16 }} />}
      <Typography.Paragraph type="secondary">
        {t('members.f.phone')}: <span data-testid="portal-profile-phone">{member.phone ? formatPhone(member.phone) : '—'}</span>{' '}
        <Button type="link" size="small" onClick={() => setChangingPhone(true)} data-testid="portal-change-phone">
          {t('portal.profile.changePhone')}
        </Button>
      </Typography.Paragraph>
      {changingPhone && <PhoneChange onDone={() => setChangingPhone(false)} />}
      <Form<Values>
        form={form}
        layout="vertical"
        name="portal-profile"
        requiredMark={false}
        initialValues={{ name: member.name, email: member.email ?? '', gender: member.gender ?? undefined, birthday: member.birthday ?? '' }}
        onFinish={(v) => {
          setError(undefined);
          setCustomErrors(undefined);
          if (customRef.current && !customRef.current.validateForm()) return;
          save.mutate(v);
        }}
      >
        <Form.Item name="name" label={t('members.f.name')} rules={[{ required: true, whitespace: true, message: t('validation.required') }]}>
          <Input autoComplete="name" />
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
      {fields.data && readOnly.length > 0 && (
        <div data-testid="portal-profile-readonly">
          <CustomForm
            jsonSchema={fields.data.json_schema}
            uiSchema={fields.data.ui_schema}
            only={readOnly}
            value={readOnlyValues}
            disabled
            idPrefix="readonly"
          />
        </div>
      )}
      {fields.data && editable.length > 0 && (
        <CustomForm
          ref={customRef}
          jsonSchema={fields.data.json_schema}
          uiSchema={fields.data.ui_schema}
          only={editable}
          value={custom}
          onChange={setCustom}
          errors={customErrors}
        />
      )}
      <Button type="primary" block size="large" loading={save.isPending} onClick={() => form.submit()} data-testid="portal-profile-save">
        {t('common.save')}
      </Button>
    </section>
  );
}

/** A new phone number, confirmed by the code texted to it. */
function PhoneChange({ onDone }: { onDone: () => void }) {
  const { t } = useTranslation();
  const { slug, token } = usePortal();
  const qc = useQueryClient();
  const { message } = App.useApp();
  const [form] = Form.useForm<{ phone: string; code: string }>();
  const [error, setError] = useState<string>();
  const save = useMutation({
    mutationFn: (v: { phone: string; code: string }) =>
      updatePortalMe(slug, { phone: v.phone.trim(), phone_code: v.code.trim() }),
    onSuccess: (m) => {
      qc.setQueryData(portalKeys.me(slug, token), m);
      void message.success(t('common.saved'));
      onDone();
    },
    onError: (err) => setError(applyServerErrors(t, form, err, ['phone', 'code'], { phone_code: 'code' })),
  });
  return (
    <div className="portal-card" style={{ border: '1px solid #f0f0f0', marginBottom: 16 }}>
      {error && <Alert type="error" showIcon role="alert" message={error} style={{ marginBottom: 12 }} />}
      <Form form={form} layout="vertical" name="portal-phone" requiredMark={false} onFinish={(v) => { setError(undefined); save.mutate(v); }}>
        <Form.Item name="phone" label={t('portal.profile.newPhone')} rules={[{ required: true, whitespace: true, message: t('validation.required') }]}>
          <Input type="tel" autoComplete="tel" />
        </Form.Item>
        <Form.Item label={t('portal.code')} required>
          <div className="portal-code-row">
            <Form.Item name="code" noStyle rules={[{ required: true, whitespace: true, message: t('validation.required') }]}>
              <Input inputMode="numeric" autoComplete="one-time-code" aria-label={t('portal.code')} />
            </Form.Item>
            <SendCode form={form} purpose="phone_change" />
          </div>
        </Form.Item>
        <Space>
          <Button type="primary" htmlType="submit" loading={save.isPending}>{t('common.save')}</Button>
          <Button onClick={onDone}>{t('common.cancel')}</Button>
        </Space>
      </Form>
    </div>
  );
}
