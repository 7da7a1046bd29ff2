// Binding a physical card (its printed code) to a member.
import { useState } from 'react';
import { App, Form, Input, Modal, Typography } from 'antd';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { applyServerErrors } from '../common/forms';
import { bindPhysicalCard, membersKeys } from './api';
import type { Member } from './profile';

export function BindCardModal({ member, onClose }: { member: Member; onClose: () => void }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const { message } = App.useApp();
  const [form] = Form.useForm<{ physical_code: string }>();
  const [error, setError] = useState<string>();
  const bind = useMutation({
    mutationFn: (v: { physical_code: string }) =>
      bindPhysicalCard(member.id, v.physical_code.trim()),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: membersKeys.detail(member.id) });
      void message.success(t('members.cards.bound'));
      onClose();
    },
    onError: (err) => setError(applyServerErrors(t, form, err, ['physical_code'])),
  });
  return (
    <Modal open title={t('members.cards.bind')} onCancel={onClose} onOk={() => form.submit()} okText={t('common.save')} cancelText={t('common.cancel')} confirmLoading={bind.isPending}>
      {error && <Typography.Paragraph type="danger" role="alert">{error}</Typography.Paragraph>}
      <Form form={form} layout="vertical" name="bind-card" onFinish={(v) => bind.mutate(v)}>
        <Form.Item name="physical_code" label={t('members.cards.physicalCode')} extra={t('members.cards.physicalHelp')} rules={[{ required: true, whitespace: true, message: t('validation.required') }]}>
          <Input autoFocus maxLength={100} />
        </Form.Item>
      </Form>
    </Modal>
  );
}
