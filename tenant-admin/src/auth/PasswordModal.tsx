import { useState } from 'react';
import { App, Form, Input, Modal, Typography } from 'antd';
import { useMutation } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { applyServerErrors } from '../common/forms';
import { changePassword } from './api';

interface PasswordForm {
  current_password: string;
  new_password: string;
  confirm: string;
}

/** Change my password; the server logs out my other sessions. */
export function PasswordModal({ onClose }: { onClose: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [form] = Form.useForm<PasswordForm>();
  const [error, setError] = useState<string>();
  const change = useMutation({
    mutationFn: (v: PasswordForm) =>
      changePassword({ current_password: v.current_password, new_password: v.new_password }),
    onSuccess: () => {
      void message.success(t('password.changed'));
      onClose();
    },
    onError: (err) => setError(applyServerErrors(t, form, err, ['current_password', 'new_password'])),
  });
  const required = { required: true, message: t('validation.required') };
  return (
    <Modal
      open
      title={t('password.title')}
      onCancel={onClose}
      okText={t('common.save')}
      cancelText={t('common.cancel')}
      confirmLoading={change.isPending}
      onOk={() => form.submit()}
    >
      <Typography.Paragraph type="secondary">{t('password.intro')}</Typography.Paragraph>
      {error && <Typography.Paragraph type="danger" role="alert">{error}</Typography.Paragraph>}
      <Form<PasswordForm>
        form={form}
        layout="vertical"
        name="password"
        onFinish={(v) => {
          setError(undefined);
          change.mutate(v);
        }}
      >
        <Form.Item name="current_password" label={t('password.current')} rules={[required]}>
          <Input.Password autoComplete="current-password" />
        </Form.Item>
        <Form.Item
          name="new_password"
          label={t('password.new')}
          rules={[required, { min: 10, message: t('validation.passwordMin') }]}
        >
          <Input.Password autoComplete="new-password" />
        </Form.Item>
        <Form.Item
          name="confirm"
          label={t('password.confirm')}
          dependencies={['new_password']}
          rules={[
            required,
            ({ getFieldValue }) => ({
              validator: (_, value) =>
                !value || value === getFieldValue('new_password')
                  ? Promise.resolve()
                  : Promise.reject(new Error(t('password.mismatch'))),
            }),
          ]}
        >
          <Input.Password autoComplete="new-password" />
        </Form.Item>
      </Form>
    </Modal>
  );
}
