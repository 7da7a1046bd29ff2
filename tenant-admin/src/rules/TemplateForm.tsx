// The no-code form of a rule: one layout per template kind. Form items carry the template's
// field names (see template.ts), with money in major units and factors as multipliers.
import { Col, Form, Input, InputNumber, Row, Switch } from 'antd';
import type { FormInstance } from 'antd';
import { useTranslation } from 'react-i18next';
import { CouponTemplateSelect } from '../coupons/TemplateSelect';
import { EarningFields } from './EarningFields';
import { PurchaseFields } from './PurchaseFields';
import { kindOfTrigger, type TemplateForm as FormValues } from './template';

interface Props {
  trigger: string;
  form: FormInstance<FormValues>;
  initialValues: FormValues;
  currency: string;
  disabled?: boolean;
  onFinish: (values: FormValues) => void;
  onChange?: () => void;
}

export function TemplateForm({ trigger, form, initialValues, currency, disabled, onFinish, onChange }: Props) {
  const kind = kindOfTrigger(trigger);
  return (
    <Form<FormValues>
      form={form}
      name="rule-template"
      layout="vertical"
      initialValues={initialValues}
      disabled={disabled}
      onFinish={onFinish}
      onValuesChange={onChange}
    >
      {kind === 'purchase' ? (
        <PurchaseFields currency={currency} />
      ) : kind === 'custom_event' ? (
        <CustomEventFields currency={currency} />
      ) : (
        <FixedFields />
      )}
    </Form>
  );
}

function FixedFields() {
  const { t } = useTranslation();
  return (
    <Row gutter={16}>
      <Col xs={24} md={8}>
        <Form.Item name="points" label={t('rules.form.fixedPoints')} rules={[{ required: true, message: t('validation.required') }]}>
          <InputNumber min={1} precision={0} style={{ width: '100%' }} />
        </Form.Item>
      </Col>
      <Col xs={24} md={16}>
        <Form.Item name="label" label={t('rules.form.label')} extra={t('rules.form.labelHelp')}>
          <Input maxLength={100} />
        </Form.Item>
      </Col>
    </Row>
  );
}

function CustomEventFields({ currency }: { currency: string }) {
  const { t } = useTranslation();
  return (
    <>
      <FixedFieldsOptional />
      <Form.Item name="per_amount_enabled" valuePropName="checked" label={t('rules.form.perAmountEnabled')}>
        <Switch />
      </Form.Item>
      <Form.Item noStyle shouldUpdate={(a, b) => a.per_amount_enabled !== b.per_amount_enabled}>
        {({ getFieldValue }) =>
          getFieldValue('per_amount_enabled') ? <EarningFields prefix={['per_amount']} currency={currency} required /> : null
        }
      </Form.Item>
      <Form.Item name="coupon_template_id" label={t('rules.form.couponTemplate')} extra={t('rules.form.couponHelp')}>
        <CouponTemplateSelect data-testid="rule-coupon" />
      </Form.Item>
    </>
  );
}

function FixedFieldsOptional() {
  const { t } = useTranslation();
  return (
    <Row gutter={16}>
      <Col xs={24} md={8}>
        <Form.Item name="points" label={t('rules.form.fixedPoints')} extra={t('rules.form.eventPointsHelp')}>
          <InputNumber min={0} precision={0} style={{ width: '100%' }} />
        </Form.Item>
      </Col>
      <Col xs={24} md={16}>
        <Form.Item name="label" label={t('rules.form.label')} extra={t('rules.form.labelHelp')}>
          <Input maxLength={100} />
        </Form.Item>
      </Col>
    </Row>
  );
}
