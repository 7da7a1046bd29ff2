// The business's point settings: expiry, refunds, redemption and check-ins.
import { useEffect, useState } from 'react';
import { Alert, App, Button, Card, Col, Form, InputNumber, Radio, Row, Select, Typography } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { applyServerErrors, errorText, focusFirstError, useUnsavedChanges } from '../common/forms';
import { useAuth } from '../auth/AuthContext';
import { fetchPointSettings, pointsKeys, savePointSettings } from './api';
import { currencyDigits } from './reasons';
import { formToSettings, SETTINGS_ALIAS, SETTINGS_ITEMS, settingsToForm, type SettingsForm } from './settings';
import { currencySymbol } from '../common/format';

export function PointSettingsPage() {
  const { t } = useTranslation();
  const { me, can } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm<SettingsForm>();
  const [error, setError] = useState<string>();
  const [touched, setTouched] = useState(false);
  const currency = me?.tenant.currency ?? 'CNY';
  const digits = currencyDigits(currency);
  const mayChange = can('settings:manage');
  useUnsavedChanges(mayChange && touched);
  const settings = useQuery({ queryKey: pointsKeys.settings(), queryFn: fetchPointSettings });
  useEffect(() => {
    if (settings.data) form.setFieldsValue(settingsToForm(settings.data, digits));
  }, [settings.data, form, digits]);
  const save = useMutation({
    mutationFn: (v: SettingsForm) => savePointSettings(formToSettings(v, digits)),
    onSuccess: (d) => {
      qc.setQueryData(pointsKeys.settings(), d);
      setTouched(false);
      void message.success(t('common.saved'));
    },
    onError: (err) => {
      setError(applyServerErrors(t, form, err, SETTINGS_ITEMS, SETTINGS_ALIAS));
      focusFirstError();
    },
  });
  const mode = Form.useWatch('expiry_mode', form);
  const n = (min: number, max?: number, extra?: Partial<Parameters<typeof InputNumber>[0]>) => (
    <InputNumber min={min} max={max} precision={0} style={{ width: '100%' }} {...extra} />
  );

  return (
    <>
      <div className="page-toolbar">
        <Typography.Title level={2}>{t('points.settings.title')}</Typography.Title>
      </div>
      {settings.isError && <Alert type="error" showIcon message={errorText(t, settings.error)} />}
      {error && <Alert type="error" showIcon role="alert" message={error} style={{ marginBottom: 16 }} />}
      <Form<SettingsForm>
        form={form}
        name="point-settings"
        layout="vertical"
        disabled={!mayChange || settings.isPending}
        onValuesChange={() => setTouched(true)}
        onFinish={(v) => {
          setError(undefined);
          save.mutate(v);
        }}
      >
        <Row gutter={[16, 16]}>
          <Col xs={24} lg={12}>
            <Card title={t('points.settings.expiry')} loading={settings.isPending}>
              <Form.Item name="expiry_mode" label={t('points.settings.expiryMode')}>
                <Select
                  options={(['never', 'days', 'end_of_month', 'end_of_year'] as const).map((m) => ({
                    value: m,
                    label: t(`points.settings.expiryModes.${m}`),
                  }))}
                />
              </Form.Item>
              {mode === 'days' && (
                <Form.Item name="expiry_days" label={t('points.settings.expiryDays')} rules={[{ required: true, message: t('validation.required') }]}>
                  {n(1, 36500)}
                </Form.Item>
              )}
              {(mode === 'end_of_month' || mode === 'end_of_year') && (
                <Form.Item
                  name="expiry_months"
                  label={t('points.settings.expiryMonths')}
                  extra={t(mode === 'end_of_month' ? 'points.settings.endOfMonthHelp' : 'points.settings.endOfYearHelp')}
                  rules={[{ required: true, message: t('validation.required') }]}
                >
                  {n(0, 1200)}
                </Form.Item>
              )}
              <Typography.Paragraph type="secondary">{t('points.settings.expiryNote')}</Typography.Paragraph>
            </Card>
          </Col>
          <Col xs={24} lg={12}>
            <Card title={t('points.settings.refunds')} loading={settings.isPending}>
              <Form.Item name="refund_shortfall" label={t('points.settings.refundShortfall')}>
                <Radio.Group>
                  <Radio value="debt" style={{ display: 'block', marginBottom: 8 }}>
                    {t('points.settings.shortfallDebt')}
                  </Radio>
                  <Radio value="negative" style={{ display: 'block' }}>
                    {t('points.settings.shortfallNegative')}
                  </Radio>
                </Radio.Group>
              </Form.Item>
            </Card>
          </Col>
          <Col xs={24} lg={12}>
            <Card title={t('points.settings.redemption')} loading={settings.isPending}>
              <Row gutter={16}>
                <Col xs={12}>
                  <Form.Item name="redeem_points" label={t('points.settings.redeemPoints')} rules={[{ required: true, message: t('validation.required') }]}>
                    {n(1, 1000000)}
                  </Form.Item>
                </Col>
                <Col xs={12}>
                  <Form.Item
                    name="redeem_value"
                    label={t('points.settings.redeemValue', { currency: currencySymbol(currency) })}
                    rules={[{ required: true, message: t('validation.required') }]}
                  >
                    <InputNumber min={0.01} precision={digits} style={{ width: '100%' }} />
                  </Form.Item>
                </Col>
              </Row>
              <Typography.Paragraph type="secondary">{t('points.settings.ratioHelp')}</Typography.Paragraph>
              <Row gutter={16}>
                <Col xs={12}>
                  <Form.Item name="min_redeem_points" label={t('points.settings.minRedeemPoints')} rules={[{ required: true, message: t('validation.required') }]}>
                    {n(1)}
                  </Form.Item>
                </Col>
                <Col xs={12}>
                  <Form.Item
                    name="max_deduction_percent"
                    label={t('points.settings.maxDeductionPercent')}
                    extra={t('points.settings.maxDeductionHelp')}
                    rules={[{ required: true, message: t('validation.required') }]}
                  >
                    {n(0, 100, { addonAfter: '%' })}
                  </Form.Item>
                </Col>
              </Row>
              <Form.Item
                name="redemption_check_above"
                label={t('points.settings.redemptionCheckAbove')}
                extra={t('points.settings.redemptionCheckHelp')}
              >
                {n(0)}
              </Form.Item>
            </Card>
          </Col>
          <Col xs={24} lg={12}>
            <Card title={t('points.settings.checkIns')} loading={settings.isPending}>
              <Form.Item
                name="check_in_points"
                label={t('points.settings.checkInPoints')}
                extra={t('points.settings.checkInHelp')}
                rules={[{ required: true, message: t('validation.required') }]}
              >
                {n(0)}
              </Form.Item>
              <Row gutter={16}>
                <Col xs={12}>
                  <Form.Item name="streak_days" label={t('points.settings.streakDays')} extra={t('points.settings.streakHelp')} rules={[{ required: true, message: t('validation.required') }]}>
                    {n(0, 365)}
                  </Form.Item>
                </Col>
                <Col xs={12}>
                  <Form.Item name="streak_bonus" label={t('points.settings.streakBonus')} rules={[{ required: true, message: t('validation.required') }]}>
                    {n(0, 1000000)}
                  </Form.Item>
                </Col>
              </Row>
            </Card>
          </Col>
        </Row>
        {mayChange && (
          <Button type="primary" htmlType="submit" loading={save.isPending} style={{ marginTop: 16 }} data-testid="point-settings-save">
            {t('common.save')}
          </Button>
        )}
      </Form>
    </>
  );
}
