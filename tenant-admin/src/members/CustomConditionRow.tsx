// One condition on a custom field in the member search: the field, then what to match as
// its type allows (a range, dates, yes or no, an option, or text).
import { Button, Col, Form, Input, InputNumber, Row, Select } from 'antd';
import { MinusCircleOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import type { FieldDto } from '../fields/schema';
import { conditionKind, type SearchValues } from './search';
import { nameIn } from '../common/format';

export function CustomConditionRow({
  name,
  fields,
  label,
  onRemove,
}: {
  name: number;
  fields: readonly FieldDto[];
  label: (f: FieldDto) => string;
  onRemove: () => void;
}) {
  const { t, i18n } = useTranslation();
  const form = Form.useFormInstance<SearchValues>();
  const key = Form.useWatch(['custom', name, 'field'], form) as string | undefined;
  const field = fields.find((f) => f.key === key);
  const kind = conditionKind(field);
  const optionLabel = (l: { 'zh-CN': string; en: string }) => nameIn(l, i18n.language);
  return (
    <Row gutter={8} align="bottom" className="custom-condition">
      <Col xs={24} sm={8}>
        <Form.Item name={[name, 'field']} label={t('members.customField')}>
          <Select options={fields.map((f) => ({ value: f.key, label: label(f) }))} />
        </Form.Item>
      </Col>
      {kind === 'number' && (
        <>
          <Col xs={10} sm={6}>
            <Form.Item name={[name, 'min']} label={t('members.min')}>
              <InputNumber style={{ width: '100%' }} />
            </Form.Item>
          </Col>
          <Col xs={10} sm={6}>
            <Form.Item name={[name, 'max']} label={t('members.max')}>
              <InputNumber style={{ width: '100%' }} />
            </Form.Item>
          </Col>
        </>
      )}
      {kind === 'date' && (
        <>
          <Col xs={10} sm={6}>
            <Form.Item name={[name, 'from']} label={t('members.from')}>
              <Input type="date" />
            </Form.Item>
          </Col>
          <Col xs={10} sm={6}>
            <Form.Item name={[name, 'to']} label={t('members.to')}>
              <Input type="date" />
            </Form.Item>
          </Col>
        </>
      )}
      {kind === 'bool' && (
        <Col xs={20} sm={12}>
          <Form.Item name={[name, 'eq']} label={t('members.equals')}>
            <Select
              allowClear
              options={[
                { value: 'true', label: t('members.yes') },
                { value: 'false', label: t('members.no') },
              ]}
            />
          </Form.Item>
        </Col>
      )}
      {kind === 'select' && (
        <Col xs={20} sm={12}>
          <Form.Item name={[name, 'eq']} label={t('members.equals')}>
            <Select allowClear options={(field?.options ?? []).map((o) => ({ value: o.value, label: optionLabel(o.label) }))} />
          </Form.Item>
        </Col>
      )}
      {kind === 'text' && (
        <Col xs={20} sm={12}>
          <Form.Item name={[name, 'eq']} label={t('members.equals')}>
            <Input />
          </Form.Item>
        </Col>
      )}
      <Col xs={4} sm={4}>
        <Form.Item>
          <Button type="text" icon={<MinusCircleOutlined />} onClick={onRemove} aria-label={t('members.removeCondition')} />
        </Form.Item>
      </Col>
    </Row>
  );
}
