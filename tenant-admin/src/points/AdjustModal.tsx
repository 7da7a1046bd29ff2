// Adjusting a member's points by hand (add or remove, with a reason), once per attempt.
import { useState } from 'react';
import { App, Form, Input, InputNumber, Modal, Radio, Typography } from 'antd';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { applyServerErrors } from '../common/forms';
import { adjustPoints, pointsKeys } from './api';
import { newIdempotencyKey, refused } from './cursor';

interface AdjustForm {
  direction: 'add' | 'remove';
  points: number;
  reason: string;
}

export function AdjustModal({ memberId, onClose }: { memberId: string; onClose: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm<AdjustForm>();
  const [error, setError] = useState<string>();
  // One key per attempt: pressing OK twice, or retrying after a network error, adjusts once;
  // after a refusal (4xx, nothing written) a corrected form is a new attempt.
  const [key, setKey] = useState(() => newIdempotencyKey('adjust'));
  const adjust = useMutation({
    mutationFn: (v: AdjustForm) =>
      adjustPoints(memberId, {
        idempotency_key: key,
        points: v.direction === 'remove' ? -v.points : v.points,
        reason: v.reason.trim(),
      }),
    onSuccess: (r) => {
      void qc.invalidateQueries({ queryKey: pointsKeys.member(memberId) });
      void message.success(t('points.adjust.done', { balance: r.balance }));
      onClose();
    },
    onError: (err) => {
      if (refused(err)) setKey(newIdempotencyKey('adjust'));
      setError(applyServerErrors(t, form, err, ['points', 'reason']));
    },
  });
  const required = { required: true, message: t('validation.required') };
  return (
    <Modal
      open
      title={t('points.adjust.title')}
      onCancel={onClose}
      okText={t('points.adjust.submit')}
      cancelText={t('common.cancel')}
      confirmLoading={adjust.isPending}
      onOk={() => form.submit()}
      okButtonProps={{ 'data-testid': 'points-adjust-submit' } as Record<`data-${string}`, string>}
    >
      {error && (
        <Typography.Paragraph type="danger" role="alert">
          {error}
        </Typography.Paragraph>
      )}
      <Form<AdjustForm>
        form={form}
        layout="vertical"
        name="adjust-points"
        initialValues={{ direction: 'add' }}
        onFinish={(v) => {
          setError(undefined);
          adjust.mutate(v);
        }}
      >
        <Form.Item name="direction" label={t('points.adjust.direction')}>
          <Radio.Group
            options={[
              { value: 'add', label: t('points.adjust.add') },
              { value: 'remove', label: t('points.adjust.remove') },
            ]}
          />
        </Form.Item>
        <Form.Item name="points" label={t('points.member.points')} rules={[required]}>
          <InputNumber min={1} precision={0} style={{ width: '100%' }} data-testid="points-adjust-points" />
        </Form.Item>
        <Form.Item
          name="reason"
          label={t('points.member.reason')}
          extra={t('points.adjust.reasonHelp')}
          rules={[required, { whitespace: true, message: t('validation.required') }, { max: 500 }]}
        >
          <Input.TextArea rows={2} maxLength={500} data-testid="points-adjust-reason" />
        </Form.Item>
      </Form>
    </Modal>
  );
}
