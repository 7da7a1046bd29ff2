// 设置: how long a pending order waits for staff before it is cancelled on its own (its
// points and stock back); empty: it waits for staff.
import { useState } from 'react';
import { App, Button, Form, InputNumber, Spin, Typography } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { applyServerErrors, errorText } from '../common/forms';
import { useAuth } from '../auth/AuthContext';
import { fetchSettings, mallKeys, saveSettings, type MallSettings } from './api';

export function SettingsTab() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm<MallSettings>();
  const [error, setError] = useState<string>();
  const q = useQuery({ queryKey: mallKeys.settings(), queryFn: fetchSettings });
  const save = useMutation({
    mutationFn: (v: MallSettings) => saveSettings({ pending_limit_hours: v.pending_limit_hours ?? undefined }),
    onSuccess: (s) => {
      qc.setQueryData(mallKeys.settings(), s);
      void message.success(t('mall.settings.saved'));
    },
    onError: (err) => setError(applyServerErrors(t, form, err, ['pending_limit_hours'])),
  });
  if (q.isPending) return <Spin />;
  if (q.isError) return <Typography.Text type="danger">{errorText(t, q.error)}</Typography.Text>;
  return (
    <Form<MallSettings>
      form={form}
      layout="vertical"
      initialValues={q.data}
      disabled={!can('settings:manage')}
      onFinish={(v) => {
        setError(undefined);
        save.mutate(v);
      }}
      style={{ maxWidth: 480 }}
      data-testid="mall-settings"
    >
      {error && (
        <Typography.Paragraph type="danger" role="alert">
          {error}
        </Typography.Paragraph>
      )}
      <Form.Item name="pending_limit_hours" label={t('mall.settings.pendingLimit')} extra={t('mall.settings.pendingLimitHelp')}>
        <InputNumber min={1} max={8760} precision={0} addonAfter={t('mall.settings.hours')} data-testid="mall-settings-hours" />
      </Form.Item>
      <Button type="primary" htmlType="submit" loading={save.isPending} data-testid="mall-settings-save">
        {t('common.save')}
      </Button>
    </Form>
  );
}
