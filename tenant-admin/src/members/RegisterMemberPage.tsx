import { useRef, useState } from 'react';
import { Alert, App, Button, Card, Form, Space, Typography } from 'antd';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { CustomForm, type CustomFormHandle } from '../fields/CustomForm';
import { useFields } from '../fields/queries';
import { cleanValues, type ErrorTree } from '../fields/schema';
import { membersKeys, registerMember } from './api';
import { memberProblems } from './errors';
import { PhoneTaken, takenPhone } from './PhoneTaken';
import { focusFirstError, useUnsavedChanges } from '../common/forms';
import { newMemberBody, PROFILE_ITEMS, ProfileItems, type ProfileValues } from './profile';

/** Registration at the counter: the built-in fields, then the business's own. */
export function RegisterMemberPage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  // Opened from the desk (`?back=desk`): the new member opens there.
  const [params] = useSearchParams();
  const fromDesk = params.get('back') === 'desk';
  const qc = useQueryClient();
  const { message } = App.useApp();
  const [form] = Form.useForm<ProfileValues>();
  const fields = useFields();
  const customRef = useRef<CustomFormHandle>(null);
  const [custom, setCustom] = useState<Record<string, unknown>>({});
  const [customErrors, setCustomErrors] = useState<ErrorTree>();
  const [error, setError] = useState<string>();
  const [touched, setTouched] = useState(false);
  const [taken, setTaken] = useState<string>();
  const { leave } = useUnsavedChanges(touched || Object.keys(cleanValues(custom)).length > 0);

  const create = useMutation({
    mutationFn: (v: ProfileValues) => registerMember(newMemberBody(v, cleanValues(custom))),
    onSuccess: (m) => {
      leave();
      void qc.invalidateQueries({ queryKey: membersKeys.all });
      void message.success(t('members.registered', { card: m.card_number ?? '' }));
      navigate(fromDesk ? `/desk?member=${m.id}` : `/members/${m.id}`);
    },
    onError: (err) => {
      const r = memberProblems(t, form, err, PROFILE_ITEMS);
      setCustomErrors(r.custom);
      setError(r.message);
      setTaken(takenPhone(err, form.getFieldValue('phone') as string | undefined));
      focusFirstError();
    },
  });

  return (
    <>
      <div className="page-toolbar">
        <Typography.Title level={2}>{t('members.register')}</Typography.Title>
        <Link to="/members">{t('members.backToList')}</Link>
      </div>
      <Card style={{ maxWidth: 720 }}>
        {error && <Alert type="error" showIcon role="alert" message={error} style={{ marginBottom: 16 }} />}
        {taken && <PhoneTaken phone={taken} />}
        {fields.isError && <Alert type="warning" showIcon message={t('members.fieldsUnavailable')} style={{ marginBottom: 16 }} />}
        <Form<ProfileValues>
          form={form}
          layout="vertical"
          name="new-member"
          initialValues={{ tags: [] }}
          onValuesChange={() => setTouched(true)}
          onFinish={(v) => {
            setError(undefined);
            setCustomErrors(undefined);
            setTaken(undefined);
            if (customRef.current && !customRef.current.validateForm()) {
              focusFirstError();
              return;
            }
            create.mutate(v);
          }}
        >
          <ProfileItems />
        </Form>
        {fields.data && (
          <div data-testid="custom-fields">
            <CustomForm
              ref={customRef}
              jsonSchema={fields.data.json_schema}
              uiSchema={fields.data.ui_schema}
              value={custom}
              onChange={setCustom}
              errors={customErrors}
            />
          </div>
        )}
        <Space>
          <Button type="primary" loading={create.isPending} onClick={() => form.submit()} data-testid="member-register-submit">
            {t('members.registerSubmit')}
          </Button>
          <Button onClick={() => navigate(fromDesk ? '/desk' : '/members')}>{t('common.cancel')}</Button>
        </Space>
      </Card>
    </>
  );
}
