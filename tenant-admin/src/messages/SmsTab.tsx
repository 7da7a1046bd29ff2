// 短信: how the business's texts leave (the SMS gateway, or the development outbox), the
// month's texts against the plan's quota, and a test text to a number staff type (counted
// against that number's limits and the quota like any text).
import { App, Button, Card, Descriptions, Form, Input, Tag, Typography } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { applyServerErrors, errorText } from '../common/forms';
import { fetchSmsStatus, sendTestSms, smsKeys } from './api';

export function SmsTab() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm<{ phone: string }>();
  const status = useQuery({ queryKey: smsKeys.status(), queryFn: fetchSmsStatus });
  const send = useMutation({
    mutationFn: (v: { phone: string }) => sendTestSms(v.phone),
    onSuccess: () => {
      void message.success(t('sms.sent'));
      void qc.invalidateQueries({ queryKey: smsKeys.status() });
    },
    onError: (err) => {
      const rest = applyServerErrors(t, form, err, ['phone']);
      if (rest) void message.error(rest);
    },
  });
  const s = status.data;
  return (
    <>
      <Typography.Paragraph type="secondary">{t('sms.intro')}</Typography.Paragraph>
      <Descriptions bordered column={1} size="small" style={{ marginBottom: 24 }}>
        <Descriptions.Item label={t('sms.provider')}>
          {s ? (
            <Tag color={s.provider === 'gateway' ? 'green' : 'orange'} data-testid="sms-provider">
              {t(`sms.providers.${s.provider}`)}
            </Tag>
          ) : status.isError ? (
            errorText(t, status.error)
          ) : (
            '…'
          )}
        </Descriptions.Item>
        <Descriptions.Item label={t('sms.used')}>
          {s ? (
            <span data-testid="sms-used">
              {s.quota == null
                ? t('sms.unlimited', { used: s.used_this_month })
                : t('sms.ofQuota', { used: s.used_this_month, quota: s.quota })}
              {s.overage ? ` · ${t('sms.overage')}` : ''}
            </span>
          ) : (
            '…'
          )}
        </Descriptions.Item>
      </Descriptions>
      <Card title={t('sms.test')} size="small" style={{ maxWidth: 520 }}>
        <Typography.Paragraph type="secondary">{t('sms.testHelp')}</Typography.Paragraph>
        <Form form={form} layout="inline" onFinish={(v) => send.mutate(v)}>
          <Form.Item name="phone" label={t('sms.phone')} rules={[{ required: true, max: 40 }]}>
            <Input autoComplete="off" style={{ width: 200 }} data-testid="sms-test-phone" />
          </Form.Item>
          <Form.Item>
            <Button type="primary" htmlType="submit" loading={send.isPending} data-testid="sms-test-send">
              {t('sms.send')}
            </Button>
          </Form.Item>
        </Form>
      </Card>
    </>
  );
}
