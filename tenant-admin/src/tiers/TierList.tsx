// The rungs in the tier editor: each tier's code, names, colour, threshold, benefits and
// perks, in order, with a heading that shows what is typed.
import { Button, Card, Col, ColorPicker, Form, Input, InputNumber, Row, Space, Tag, Typography } from 'antd';
import { ArrowDownOutlined, ArrowUpOutlined, DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { Advanced, useCodeFromName } from '../common/Advanced';
import { CODE_RULES } from '../common/codes';
import { CouponTemplateSelect } from '../coupons/TemplateSelect';
import { multiplierText, newTier, type LadderForm, type Metric } from './ladder';
import { currencySymbol, discountText, nameIn } from '../common/format';

export function TierList({ currency }: { currency: string }) {
  const { t } = useTranslation();
  const form = Form.useFormInstance<LadderForm>();
  const metric = (Form.useWatch('metric') as Metric | undefined) ?? 'points_earned';
  return (
    <Form.List name="tiers">
      {(fields, { add, remove, move }) => (
        <>
          {fields.map((field, index) => (
            <Card
              key={field.key}
              size="small"
              style={{ marginBottom: 16 }}
              data-testid={`tier-${index}`}
              title={<TierTitle index={index} />}
              extra={
                <Space>
                  <Button
                    size="small"
                    icon={<ArrowUpOutlined />}
                    aria-label={t('tiers.editor.up')}
                    disabled={index === 0}
                    onClick={() => move(index, index - 1)}
                  />
                  <Button
                    size="small"
                    icon={<ArrowDownOutlined />}
                    aria-label={t('tiers.editor.down')}
                    disabled={index === fields.length - 1}
                    onClick={() => move(index, index + 1)}
                  />
                  <Button
                    size="small"
                    danger
                    icon={<DeleteOutlined />}
                    aria-label={t('tiers.editor.remove')}
                    data-testid={`tier-${index}-remove`}
                    disabled={fields.length <= 1}
                    onClick={() => remove(index)}
                  />
                </Space>
              }
            >
              <Row gutter={16}>
                <Col xs={24} sm={12} md={6}>
                  <Form.Item
                    name={[field.name, 'name_zh']}
                    label={t('tiers.tier.nameZh')}
                    rules={[
                      ({ getFieldValue }) => ({
                        validator: (_, v: string | undefined) =>
                          v?.trim() || String(getFieldValue(['tiers', field.name, 'name_en']) ?? '').trim()
                            ? Promise.resolve()
                            : Promise.reject(new Error(t('advanced.nameRequired'))),
                      }),
                    ]}
                  >
                    <Input placeholder="金卡" data-testid={`tier-${index}-name-zh`} />
                  </Form.Item>
                </Col>
                <Col xs={24} sm={12} md={6}>
                  <Form.Item name={[field.name, 'name_en']} label={t('tiers.tier.nameEn')}>
                    <Input placeholder="Gold" data-testid={`tier-${index}-name-en`} />
                  </Form.Item>
                </Col>
                <Col xs={24} sm={12} md={6}>
                  <Form.Item
                    name={[field.name, 'color']}
                    label={t('tiers.tier.color')}
                    getValueFromEvent={(c: { toHexString: () => string }) => c.toHexString()}
                  >
                    <ColorPicker showText disabledAlpha />
                  </Form.Item>
                </Col>
                <Col xs={24} sm={12} md={6}>
                  <Form.Item
                    name={[field.name, 'threshold']}
                    label={t(`tiers.tier.threshold.${metric}`, { currency: currencySymbol(currency) })}
                    extra={index === 0 ? t('tiers.tier.firstThreshold') : undefined}
                  >
                    <InputNumber min={0} style={{ width: '100%' }} disabled={index === 0} data-testid={`tier-${index}-threshold`} />
                  </Form.Item>
                </Col>
                <Col xs={24} sm={12} md={6}>
                  <Form.Item name={[field.name, 'multiplier']} label={t('tiers.tier.multiplier')}>
                    <InputNumber min={0} max={100} step={0.1} precision={3} style={{ width: '100%' }} addonBefore="×" data-testid={`tier-${index}-multiplier`} />
                  </Form.Item>
                </Col>
                <Col xs={24} sm={12} md={6}>
                  <Form.Item
                    name={[field.name, 'discount_percent']}
                    label={t('tiers.tier.discount')}
                    extra={<DiscountHint index={index} />}
                  >
                    <InputNumber min={0} max={100} precision={0} style={{ width: '100%' }} addonAfter="%" />
                  </Form.Item>
                </Col>
                <Col xs={24} sm={12} md={6}>
                  <Form.Item name={[field.name, 'birthday_gift_points']} label={t('tiers.tier.birthday')}>
                    <InputNumber min={0} precision={0} style={{ width: '100%' }} />
                  </Form.Item>
                </Col>
                <Col xs={24} sm={12} md={6}>
                  <Form.Item
                    name={[field.name, 'birthday_coupon_template_id']}
                    label={t('tiers.tier.birthdayCoupon')}
                    extra={t('tiers.tier.birthdayCouponHelp')}
                  >
                    <CouponTemplateSelect data-testid={`tier-birthday-coupon-${index}`} />
                  </Form.Item>
                </Col>
              </Row>
              <Typography.Text strong>{t('tiers.tier.perks')}</Typography.Text>
              <Form.List name={[field.name, 'perks']}>
                {(perks, perkOps) => (
                  <>
                    {perks.map((perk) => (
                      <Row gutter={8} key={perk.key} align="top" style={{ marginTop: 8 }}>
                        <Col xs={24} sm={11}>
                          <Form.Item name={[perk.name, 'zh']} style={{ marginBottom: 8 }}>
                            <Input placeholder={t('tiers.tier.perkZh')} aria-label={t('tiers.tier.perkZh')} />
                          </Form.Item>
                        </Col>
                        <Col xs={20} sm={11}>
                          <Form.Item name={[perk.name, 'en']} style={{ marginBottom: 8 }}>
                            <Input placeholder={t('tiers.tier.perkEn')} aria-label={t('tiers.tier.perkEn')} />
                          </Form.Item>
                        </Col>
                        <Col xs={4} sm={2}>
                          <Button icon={<DeleteOutlined />} aria-label={t('tiers.tier.removePerk')} onClick={() => perkOps.remove(perk.name)} />
                        </Col>
                      </Row>
                    ))}
                    <div style={{ marginTop: 8 }}>
                      <Button size="small" icon={<PlusOutlined />} onClick={() => perkOps.add({ zh: '', en: '' })}>
                        {t('tiers.tier.addPerk')}
                      </Button>
                    </div>
                  </>
                )}
              </Form.List>
              <TierCode index={index} name={field.name} />
            </Card>
          ))}
          <Button
            type="dashed"
            block
            icon={<PlusOutlined />}
            style={{ marginBottom: 16 }}
            data-testid="tiers-add"
            onClick={() => {
              const tiers = (form.getFieldValue('tiers') as LadderForm['tiers'] | undefined) ?? [];
              add(newTier(tiers.length, tiers[tiers.length - 1]));
            }}
          >
            {t('tiers.editor.add')}
          </Button>
        </>
      )}
    </Form.List>
  );
}

/** A rung's heading: its colour, names and the multiplier, as typed. */
function TierTitle({ index }: { index: number }) {
  const { t, i18n } = useTranslation();
  const tier = Form.useWatch(['tiers', index]) as LadderForm['tiers'][number] | undefined;
  const name = nameIn({ 'zh-CN': tier?.name_zh ?? '', en: tier?.name_en ?? '' }, i18n.language);
  const mult = tier?.multiplier ?? 1;
  return (
    <Space>
      <span
        aria-hidden
        style={{ display: 'inline-block', width: 14, height: 14, borderRadius: 7, background: tier?.color ?? '#8c8c8c' }}
      />
      <span>{t('tiers.editor.rung', { n: index + 1 })}</span>
      {name && <Typography.Text strong>{name}</Typography.Text>}
      <Tag>{multiplierText(Math.round(mult * 1000))}</Tag>
    </Space>
  );
}

/** What a tier's discount reads as for the shop (95折 in Chinese), under its input. */
function DiscountHint({ index }: { index: number }) {
  const { t, i18n } = useTranslation();
  const percent = Form.useWatch(['tiers', index, 'discount_percent']) as number | null | undefined;
  return <span data-testid={`tier-${index}-discount-text`}>{discountText(t, i18n.language, percent ?? 0)}</span>;
}

/**
 * A tier's code, under 「高级」: made from its name (Chinese first) while the tier is new and
 * the code untouched, unique in the ladder; fixed once saved. Opens when the code has a
 * problem.
 */
function TierCode({ index, name: itemName }: { index: number; name: number }) {
  const { t } = useTranslation();
  const form = Form.useFormInstance<LadderForm>();
  const tier = Form.useWatch(['tiers', index]) as LadderForm['tiers'][number] | undefined;
  const tiers = (Form.useWatch('tiers') as LadderForm['tiers'] | undefined) ?? [];
  const name = tier?.name_zh?.trim() || tier?.name_en?.trim() || '';
  const others = tiers.filter((_, i) => i !== index).map((x) => x?.code ?? '').filter(Boolean);
  useCodeFromName(name, Boolean(tier?.code_auto && !tier?.code_fixed), CODE_RULES.tier, others, (code) => {
    if (form.getFieldValue(['tiers', index, 'code']) !== code) {
      form.setFieldValue(['tiers', index, 'code'], code);
    }
  });
  return (
    <Form.Item noStyle shouldUpdate>
      {() => (
        <Advanced forceOpen={form.getFieldError(['tiers', index, 'code']).length > 0} testId={`tier-${index}-advanced`}>
          <Form.Item
            // Inside the list: the name is relative to `tiers`.
            name={[itemName, 'code']}
            label={t('tiers.tier.code')}
            extra={tier?.code_fixed ? t('advanced.codeFixed') : t('advanced.codeAuto')}
            rules={[{ required: true, message: t('tiers.tier.codeRequired') }]}
            style={{ maxWidth: 360, marginBottom: 0 }}
          >
            <Input
              data-testid={`tier-${index}-code`}
              disabled={tier?.code_fixed}
              onChange={() => form.setFieldValue(['tiers', index, 'code_auto'], false)}
            />
          </Form.Item>
        </Advanced>
      )}
    </Form.Item>
  );
}
