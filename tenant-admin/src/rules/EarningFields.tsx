// What a rule earns per amount spent (points, rounding, the entry's label), as form items under a prefix.
import { Col, Form, Input, InputNumber, Radio, Row } from 'antd';
import { useTranslation } from 'react-i18next';
import { currencySymbol } from '../common/format';

export function EarningFields({ prefix, currency, required }: { prefix: string[]; currency: string; required: boolean }) {
  const { t } = useTranslation();
  const req = required ? [{ required: true, message: t('validation.required') }] : [];
  return (
    <Row gutter={16}>
      <Col xs={12} md={6}>
        <Form.Item name={[...prefix, 'points']} label={t('rules.form.points')} rules={req}>
          <InputNumber min={1} max={10000} precision={0} style={{ width: '100%' }} />
        </Form.Item>
      </Col>
      <Col xs={12} md={6}>
        <Form.Item
          name={[...prefix, 'per_amount']}
          label={t('rules.form.perAmount', { currency: currencySymbol(currency) })}
          extra={t('rules.form.perAmountHelp')}
          rules={req}
        >
          <InputNumber min={0.01} precision={2} style={{ width: '100%' }} />
        </Form.Item>
      </Col>
      <Col xs={24} md={12}>
        <Form.Item name={[...prefix, 'rounding']} label={t('rules.form.rounding')}>
          <Radio.Group
            options={[
              { value: 'floor', label: t('rules.form.floor') },
              { value: 'round', label: t('rules.form.round') },
              { value: 'ceil', label: t('rules.form.ceil') },
            ]}
          />
        </Form.Item>
      </Col>
      <Col xs={24}>
        <Form.Item name={[...prefix, 'label']} label={t('rules.form.label')} extra={t('rules.form.labelHelp')}>
          <Input maxLength={100} />
        </Form.Item>
      </Col>
    </Row>
  );
}
