import { useMemo, useState } from 'react';
import { Alert, App, Button, Card, Form, Input, Select, Typography } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { applyServerErrors, errorText, focusFirstError, useUnsavedChanges } from '../common/forms';
import { CURRENCIES, REGIONS, ZONES, currencyName, planName, regionName, zoneName } from '../common/format';
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

/** Options by name, with the stored value kept even when it is not in the list. */
function options(codes: readonly string[], current: string | undefined, name: (code: string) => string) {
  const all = current && !codes.includes(current) ? [current, ...codes] : codes;
  return all.map((code) => ({ value: code, label: name(code) }));
}

/** Searchable by the name shown and by the code (typing `shang`, `上海` or `CNY`). */
function matches(input: string, option?: { value: string; label: string }): boolean {
  const q = input.trim().toLowerCase();
  return !!option && (option.label.toLowerCase().includes(q) || option.value.toLowerCase().includes(q));
}

export function SettingsPage() {
  const { t, i18n } = useTranslation();
  const { can } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm<SettingsForm>();
  const [error, setError] = useState<string>();
  const [touched, setTouched] = useState(false);
  const manage = can('settings:manage');
  useUnsavedChanges(manage && touched);
  const settings = useQuery({ queryKey: settingsKeys.current(), queryFn: fetchSettings });
  const lang = i18n.language;
  const current = settings.data;
  const zones = useMemo(() => options(ZONES, current?.time_zone, (z) => zoneName(t, z)), [t, lang, current?.time_zone]);
  const currencies = useMemo(
    () => options(CURRENCIES, current?.currency, (c) => currencyName(t, c)),
    [t, lang, current?.currency],
  );
  const regions = useMemo(
    () => options(REGIONS, current?.phone_region, (r) => regionName(t, r)),
    [t, lang, current?.phone_region],
  );

  const save = useMutation({
    mutationFn: (v: SettingsForm) => saveSettings(v),
    onSuccess: (tenant) => {
      qc.setQueryData(settingsKeys.current(), tenant);
      setTouched(false);
      void qc.invalidateQueries({ queryKey: sessionKeys.all });
      void message.success(t('common.saved'));
    },
    onError: (err) => {
      setError(applyServerErrors(t, form, err, FIELDS));
      focusFirstError();
    },
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
          onValuesChange={() => setTouched(true)}
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
            <Select showSearch options={zones} filterOption={matches} />
          </Form.Item>
          <Form.Item name="currency" label={t('settings.currency')}>
            <Select showSearch options={currencies} filterOption={matches} />
          </Form.Item>
          <Form.Item name="locale" label={t('settings.locale')} extra={t('settings.localeHelp')}>
            <Select options={LANGUAGES.map((l) => ({ value: l, label: t(`languages.${l}`) }))} />
          </Form.Item>
          <Form.Item name="phone_region" label={t('settings.phoneRegion')} extra={t('settings.phoneRegionHelp')}>
            <Select showSearch options={regions} filterOption={matches} />
          </Form.Item>
          {manage && (
            <Button type="primary" htmlType="submit" loading={save.isPending} data-testid="settings-save">
              {t('common.save')}
            </Button>
          )}
        </Form>
        <Typography.Paragraph type="secondary" style={{ marginTop: 16, marginBottom: 0 }}>
          {t('settings.plan', { plan: planName(t, s.plan), status: t(`tenantStatus.${s.status}`, { defaultValue: s.status }) })}
        </Typography.Paragraph>
      </Card>
    </>
  );
}
