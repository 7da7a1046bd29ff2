// 储值设置: the stored-value bonus rule (fixed tiers or a percentage), the spend order
// between principal and bonus, the business's balance cap and the yearly freeze allowance
// of memberships.
import { useEffect, useState } from 'react';
import { Alert, App, Button, Card, Form, InputNumber, Radio, Select, Space, Typography } from 'antd';
import { DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { applyServerErrors, errorText } from '../common/forms';
import { useAuth } from '../auth/AuthContext';
import { fetchSettings, prepaidKeys, saveSettings, SPEND_ORDERS, type PrepaidSettings } from './api';
import { toMinor } from './money';
import { missingFeature, PlanMissing, useMoney } from './parts';

interface SettingsForm {
  spend_order: PrepaidSettings['spend_order'];
  kind: string;
  tiers?: { min?: number; bonus?: number }[];
  percent?: number;
  balance_cap?: number | null;
  freeze_days_per_year: number;
}

const toForm = (s: PrepaidSettings): SettingsForm => ({
  spend_order: s.spend_order,
  kind: s.bonus_rule.kind,
  tiers: s.bonus_rule.tiers.map((t) => ({ min: t.min / 100, bonus: t.bonus / 100 })),
  percent: s.bonus_rule.percent ?? undefined,
  balance_cap: s.balance_cap !== undefined && s.balance_cap !== null ? s.balance_cap / 100 : null,
  freeze_days_per_year: s.freeze_days_per_year,
});

const fromForm = (v: SettingsForm): PrepaidSettings => ({
  spend_order: v.spend_order,
  bonus_rule: {
    kind: v.kind,
    tiers:
      v.kind === 'tiers' ? (v.tiers ?? []).map((t) => ({ min: toMinor(t.min), bonus: toMinor(t.bonus) })) : [],
    percent: v.kind === 'percent' ? v.percent : undefined,
  },
  balance_cap: v.balance_cap === null || v.balance_cap === undefined ? undefined : toMinor(v.balance_cap),
  freeze_days_per_year: v.freeze_days_per_year,
});

export function SettingsTab() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const { message } = App.useApp();
  const money = useMoney();
  const qc = useQueryClient();
  const [form] = Form.useForm<SettingsForm>();
  const [error, setError] = useState<string>();
  const editable = can('settings:manage');
  const settings = useQuery({ queryKey: prepaidKeys.settings(), queryFn: fetchSettings, retry: false });
  const kind = Form.useWatch('kind', form);
  useEffect(() => {
    if (settings.data) form.setFieldsValue(toForm(settings.data));
  }, [settings.data, form]);
  const save = useMutation({
    mutationFn: (v: SettingsForm) => saveSettings(fromForm(v)),
    onSuccess: (s) => {
      qc.setQueryData(prepaidKeys.settings(), s);
      void message.success(t('prepaid.settings.saved'));
    },
    onError: (err) =>
      setError(
        applyServerErrors(t, form, err, ['spend_order', 'kind', 'tiers', 'percent', 'balance_cap', 'freeze_days_per_year'], {
          'bonus_rule.kind': 'kind',
          'bonus_rule.tiers': 'tiers',
          'bonus_rule.percent': 'percent',
        }),
      ),
  });
  if (missingFeature(settings.error)) return <PlanMissing feature="stored_value" />;
  const example = settings.data?.bonus_rule;
  return (
    <Card loading={settings.isPending} data-testid="prepaid-settings" style={{ maxWidth: 720 }}>
      {settings.isError && <Alert type="error" showIcon message={errorText(t, settings.error)} />}
      {error && <Alert type="error" showIcon message={error} role="alert" style={{ marginBottom: 16 }} />}
      <Form<SettingsForm>
        form={form}
        layout="vertical"
        name="prepaid-settings"
        disabled={!editable}
        onFinish={(v) => {
          setError(undefined);
          if (v.kind === 'tiers' && !(v.tiers ?? []).length) {
            setError(t('prepaid.settings.needTier'));
            return;
          }
          save.mutate(v);
        }}
      >
        <Typography.Title level={5}>{t('prepaid.settings.bonus')}</Typography.Title>
        <Form.Item name="kind">
          <Radio.Group
            optionType="button"
            data-testid="prepaid-bonus-kind"
            options={['none', 'tiers', 'percent'].map((k) => ({ value: k, label: t(`prepaid.settings.kind.${k}`) }))}
          />
        </Form.Item>
        {kind === 'tiers' && (
          <Form.List name="tiers">
            {(fields, { add, remove }) => (
              <>
                {fields.map((f) => (
                  <Space key={f.key} align="baseline" wrap>
                    <Form.Item
                      name={[f.name, 'min']}
                      label={t('prepaid.settings.tierMin')}
                      rules={[
                        { required: true, message: t('validation.required') },
                        ({ getFieldValue }) => ({
                          validator: (_, value?: number) => {
                            const all = ((getFieldValue('tiers') ?? []) as { min?: number }[]).map((x) => x?.min);
                            return value !== undefined && all.filter((m) => m === value).length > 1
                              ? Promise.reject(new Error(t('prepaid.settings.tierTwice')))
                              : Promise.resolve();
                          },
                        }),
                      ]}
                    >
                      <InputNumber min={0.01} precision={2} prefix="¥" data-testid={`prepaid-tier-min-${f.name}`} />
                    </Form.Item>
                    <Form.Item name={[f.name, 'bonus']} label={t('prepaid.settings.tierBonus')} rules={[{ required: true, message: t('validation.required') }]}>
                      <InputNumber min={0} precision={2} prefix="¥" data-testid={`prepaid-tier-bonus-${f.name}`} />
                    </Form.Item>
                    <Button type="text" danger icon={<DeleteOutlined />} aria-label={t('prepaid.settings.removeTier')} onClick={() => remove(f.name)} />
                  </Space>
                ))}
                <Form.Item>
                  <Button icon={<PlusOutlined />} onClick={() => add({})} data-testid="prepaid-tier-add">
                    {t('prepaid.settings.addTier')}
                  </Button>
                </Form.Item>
              </>
            )}
          </Form.List>
        )}
        {kind === 'percent' && (
          <Form.Item name="percent" label={t('prepaid.settings.percent')} rules={[{ required: true, message: t('validation.required') }]}>
            <InputNumber min={1} max={100} precision={0} suffix="%" data-testid="prepaid-bonus-percent" />
          </Form.Item>
        )}
        {example?.kind === 'tiers' && example.tiers.length > 0 && (
          <Typography.Paragraph type="secondary">
            {t('prepaid.settings.now')}{' '}
            {example.tiers.map((x) => t('prepaid.settings.tierText', { min: money(x.min), bonus: money(x.bonus) })).join(t('prepaid.settings.sep'))}
          </Typography.Paragraph>
        )}
        <Form.Item name="spend_order" label={t('prepaid.settings.spendOrder')} extra={t('prepaid.settings.spendOrderHelp')}>
          <Select options={SPEND_ORDERS.map((o) => ({ value: o, label: t(`prepaid.settings.order.${o}`) }))} />
        </Form.Item>
        <Form.Item name="balance_cap" label={t('prepaid.settings.cap')} extra={t('prepaid.settings.capHelp')}>
          <InputNumber min={0} precision={2} prefix="¥" style={{ width: 220 }} />
        </Form.Item>
        <Form.Item
          name="freeze_days_per_year"
          label={t('prepaid.settings.freezeDays')}
          extra={t('prepaid.settings.freezeHelp')}
          rules={[{ required: true, message: t('validation.required') }]}
        >
          <InputNumber min={0} max={366} precision={0} style={{ width: 220 }} />
        </Form.Item>
        {editable && (
          <Button type="primary" htmlType="submit" loading={save.isPending} data-testid="prepaid-settings-save">
            {t('common.save')}
          </Button>
        )}
      </Form>
    </Card>
  );
}
