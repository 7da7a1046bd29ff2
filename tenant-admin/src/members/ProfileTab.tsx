// A member's profile tab: built-in and custom fields, saved as a change of what differs;
// a verified phone changes only with a code sent to the new number (unless the caller may
// change sensitive data).
import { useMemo, useRef, useState } from 'react';
import { Alert, App, Button, Card, Descriptions, Form, Input, Space, Tag } from 'antd';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { Schemas } from '../api/client';
import { formatDateTime } from '../common/format';
import { useAuth } from '../auth/AuthContext';
import { CustomForm, type CustomFormHandle } from '../fields/CustomForm';
import { useFields } from '../fields/queries';
import { cleanValues, type ErrorTree } from '../fields/schema';
import { membersKeys, sendPhoneCode, updateMember } from './api';
import { isObj } from './changes';
import { memberProblems } from './errors';
import { PhoneTaken, takenPhone } from './PhoneTaken';
import { focusFirstError, useUnsavedChanges } from '../common/forms';
import { memberChange, profileOf, PROFILE_ITEMS, ProfileItems, type Member, type ProfileValues } from './profile';

export function ProfileTab({ member }: { member: Member }) {
  const { t, i18n } = useTranslation();
  const { can, me } = useAuth();
  const qc = useQueryClient();
  const { message } = App.useApp();
  const [form] = Form.useForm<ProfileValues>();
  const fields = useFields();
  const writable = can('members:write') && member.status !== 'erased';
  const before = useMemo(() => profileOf(member), [member]);
  const customBefore = useMemo(() => (isObj(member.custom) ? member.custom : {}), [member.custom]);
  const [custom, setCustom] = useState<Record<string, unknown>>(customBefore);
  const customRef = useRef<CustomFormHandle>(null);
  const [customErrors, setCustomErrors] = useState<ErrorTree>();
  const [error, setError] = useState<string>();
  const [touched, setTouched] = useState(false);
  const [taken, setTaken] = useState<string>();
  useUnsavedChanges(writable && (touched || JSON.stringify(cleanValues(custom)) !== JSON.stringify(cleanValues(customBefore))));

  // Changing a verified phone takes a code sent to the new number, unless the caller may
  // change sensitive data.
  const newPhone = Form.useWatch('phone', form) as string | undefined;
  const needsCode =
    member.phone_verified && !can('members:manage_sensitive') && (newPhone ?? '').trim() !== '' && (newPhone ?? '').trim() !== (before.phone ?? '');
  const [phoneCode, setPhoneCode] = useState('');
  const sendCode = useMutation({
    mutationFn: (phone: string) => sendPhoneCode(member.id, phone),
    onSuccess: () => void message.success(t('members.codeSent')),
    onError: (err) => {
      const r = memberProblems(t, form, err, PROFILE_ITEMS);
      if (r.message) void message.error(r.message);
    },
  });

  const save = useMutation({
    mutationFn: (body: Record<string, unknown>) =>
      updateMember(member.id, body as Schemas['MemberChange']),
    onSuccess: (m) => {
      qc.setQueryData(membersKeys.detail(member.id), m);
      void qc.invalidateQueries({ queryKey: membersKeys.searches() });
      void qc.invalidateQueries({ queryKey: membersKeys.audit(member.id) });
      form.setFieldsValue(profileOf(m));
      setCustom(isObj(m.custom) ? m.custom : {});
      setTouched(false);
      void message.success(t('common.saved'));
    },
    onError: (err) => {
      const r = memberProblems(t, form, err, PROFILE_ITEMS);
      setCustomErrors(r.custom);
      setError(r.message);
      setTaken(takenPhone(err, form.getFieldValue('phone') as string | undefined));
      focusFirstError();
    },
  });

  const archived = isObj(member.archived) ? Object.entries(member.archived) : [];
  return (
    <Card style={{ maxWidth: 760 }}>
      {error && <Alert type="error" showIcon role="alert" message={error} style={{ marginBottom: 16 }} />}
      {taken && <PhoneTaken phone={taken} except={member.id} />}
      <Descriptions size="small" column={{ xs: 1, sm: 2 }} style={{ marginBottom: 16 }}>
        <Descriptions.Item label={t('members.channel')}>{t(`members.channels.${member.channel}`, { defaultValue: member.channel })}</Descriptions.Item>
        <Descriptions.Item label={t('members.registeredAt')}>{formatDateTime(member.created_at, i18n.language, me?.tenant.time_zone)}</Descriptions.Item>
        <Descriptions.Item label={t('members.phoneVerified')}>{member.phone_verified ? t('members.yes') : t('members.no')}</Descriptions.Item>
        {member.email_bounced_at && (
          <Descriptions.Item label={t('members.emailBounced')}>
            <Tag color="red" data-testid="member-email-bounced">
              {t('members.emailBouncedAt', { at: formatDateTime(member.email_bounced_at, i18n.language, me?.tenant.time_zone) })}
            </Tag>
          </Descriptions.Item>
        )}
      </Descriptions>
      <Form<ProfileValues>
        form={form}
        layout="vertical"
        name="member"
        initialValues={before}
        onValuesChange={() => setTouched(true)}
        disabled={!writable}
        onFinish={(v) => {
          setError(undefined);
          setCustomErrors(undefined);
          setTaken(undefined);
          if (customRef.current && !customRef.current.validateForm()) {
            focusFirstError();
            return;
          }
          const body = memberChange(before, v, customBefore, cleanValues(custom));
          if (!body) {
            setTouched(false);
            void message.info(t('members.noChanges'));
            return;
          }
          if (needsCode && 'phone' in body) body.phone_code = phoneCode.trim();
          save.mutate(body);
        }}
      >
        <ProfileItems piiMasked={member.pii_masked} />
      </Form>
      {needsCode && writable && (
        <Alert
          type="info"
          style={{ marginBottom: 16 }}
          message={t('members.phoneCodeNeeded')}
          description={
            <Space.Compact style={{ width: '100%', maxWidth: 360 }}>
              <Input value={phoneCode} onChange={(e) => setPhoneCode(e.target.value)} inputMode="numeric" aria-label={t('members.phoneCode')} placeholder={t('members.phoneCode')} />
              <Button loading={sendCode.isPending} onClick={() => sendCode.mutate((newPhone ?? '').trim())}>
                {t('members.sendCode')}
              </Button>
            </Space.Compact>
          }
        />
      )}
      {fields.data && (
        <CustomForm
          ref={customRef}
          jsonSchema={fields.data.json_schema}
          uiSchema={fields.data.ui_schema}
          value={custom}
          onChange={setCustom}
          errors={customErrors}
          disabled={!writable}
        />
      )}
      {archived.length > 0 && (
        <Descriptions title={t('members.archivedValues')} size="small" column={1} bordered style={{ marginBottom: 16 }}>
          {archived.map(([k, v]) => (
            <Descriptions.Item key={k} label={k}>
              {typeof v === 'string' ? v : JSON.stringify(v)}
            </Descriptions.Item>
          ))}
        </Descriptions>
      )}
      {writable && (
        <Button type="primary" loading={save.isPending} onClick={() => form.submit()} data-testid="member-save">
          {t('common.save')}
        </Button>
      )}
    </Card>
  );
}
