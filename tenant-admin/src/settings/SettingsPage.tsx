import { useMemo, useState } from 'react';
import { Alert, App, Button, Card, Form, Input, Select, Typography } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { applyServerErrors, errorText } from '../common/forms';
import { useAuth } from '../auth/AuthContext';
import { sessionKeys } from '../auth/api';
import { LANGUAGES } from '../i18n';
import { fetchSettings, saveSettings, settingsKeys } from './api';

interface SettingsForm {
  name: string;
  time_zone: string;
  currency: string;
  locale: string;
  phone_region: string;
}

const FIELDS = ['name', 'time_zone', 'currency', 'locale', 'phone_region'] as const;

function supported(kind: 'timeZone' | 'currency', fallback: string[]): string[] {
  try {
    return Intl.supportedValuesOf(kind);
  } catch {
    return fallback;
  }
}

export function SettingsPage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm<SettingsForm>();
  const [error, setError] = useState<string>();
  const manage = can('settings:manage');
  const settings = useQuery({ queryKey: settingsKeys.current(), queryFn: fetchSettings });
  const zones = useMemo(() => supported('timeZone', ['Asia/Shanghai', 'UTC']), []);
  const currencies = useMemo(() => supported('currency', ['CNY', 'HKD', 'USD', 'EUR']), []);

  const save = useMutation({
    mutationFn: (v: SettingsForm) => saveSettings(v),
    onSuccess: (tenant) => {
      qc.setQueryData(settingsKeys.current(), tenant);
      void qc.invalidateQueries({ queryKey: sessionKeys.all });
      void message.success(t('common.saved'));
    },
    onError: (err) => setError(applyServerErrors(t, form, err, FIELDS)),
  });

  if (settings.isPending) return <Card loading />;
  if (settings.isError) return <Alert type="error" showIcon message={errorText(t, settings.error)} />;
  const s = settings.data;

  return (
    <>
      <div className="page-toolbar">
        <Typography.Title level={2}>{t('settings.title')}</Typography.Title>
      </div>
      <Card style={{ maxWidth: 640 }}>
        {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 16 }} role="alert" />}
        <Form<SettingsForm>
          form={form}
          layout="vertical"
          name="settings"
          disabled={!manage}
          initialValues={{
            name: s.name,
            time_zone: s.time_zone,
            currency: s.currency,
            locale: s.locale,
            phone_region: s.phone_region,
          }}
          onFinish={(v) => {
            setError(undefined);
            save.mutate(v);
          }}
        >
          <Form.Item name="name" label={t('settings.name')} rules={[{ required: true, message: t('validation.required') }]}>
            <Input />
          </Form.Item>
          <Form.Item name="time_zone" label={t('settings.timeZone')} extra={t('settings.timeZoneHelp')}>
            <Select showSearch options={zones.map((z) => ({ value: z, label: z }))} />
          </Form.Item>
          <Form.Item name="currency" label={t('settings.currency')}>
            <Select showSearch options={currencies.map((c) => ({ value: c, label: c }))} />
          </Form.Item>
          <Form.Item name="locale" label={t('settings.locale')} extra={t('settings.localeHelp')}>
            <Select options={LANGUAGES.map((l) => ({ value: l, label: t(`languages.${l}`) }))} />
          </Form.Item>
          <Form.Item
            name="phone_region"
            label={t('settings.phoneRegion')}
            extra={t('settings.phoneRegionHelp')}
            normalize={(v: string) => v.toUpperCase()}
          >
            <Input maxLength={2} style={{ width: 120 }} />
          </Form.Item>
          {manage && (
            <Button type="primary" htmlType="submit" loading={save.isPending} data-testid="settings-save">
              {t('common.save')}
            </Button>
          )}
        </Form>
        <Typography.Paragraph type="secondary" style={{ marginTop: 16, marginBottom: 0 }}>
          {t('settings.plan', { plan: s.plan, status: t(`tenantStatus.${s.status}`, { defaultValue: s.status }) })}
        </Typography.Paragraph>
      </Card>
    </>
  );
}
