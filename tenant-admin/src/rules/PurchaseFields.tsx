// The purchase rule's form: the base earning, multipliers (by category, SKU, weekday and
// hours), promotions, tier benefits, first-purchase and birthday bonuses, and caps.
import { Button, Card, Checkbox, Col, Form, Input, InputNumber, Radio, Row, Select, Space, Typography } from 'antd';
import { DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import { useTranslation } from 'react-i18next';
import { EarningFields } from './EarningFields';
import { useQuery } from '@tanstack/react-query';
import { currencySymbol, nameIn } from '../common/format';
import { fetchTiersOverview, tiersKeys } from '../tiers/api';
import { CouponTemplateSelect } from '../coupons/TemplateSelect';

const WEEKDAYS = [1, 2, 3, 4, 5, 6, 7] as const;

export function PurchaseFields({ currency }: { currency: string }) {
  const { t } = useTranslation();
  const req = { required: true, message: t('validation.required') };
  const factor = (min: number) => (
    <InputNumber min={min} max={100} step={0.1} precision={3} addonBefore="×" style={{ width: '100%' }} />
  );
  return (
    <>
      <Typography.Title level={5}>{t('rules.form.base')}</Typography.Title>
      <EarningFields prefix={['base']} currency={currency} required />
      <Row gutter={16}>
        <Col xs={12} md={6}>
          <Form.Item name="minimum_spend" label={t('rules.form.minimumSpend', { currency: currencySymbol(currency) })} extra={t('rules.form.minimumSpendHelp')}>
            <InputNumber min={0.01} precision={2} style={{ width: '100%' }} />
          </Form.Item>
        </Col>
        <Col xs={12} md={6}>
          <Form.Item name="per_purchase_cap" label={t('rules.form.perPurchaseCap')}>
            <InputNumber min={1} precision={0} style={{ width: '100%' }} />
          </Form.Item>
        </Col>
        <Col xs={12} md={6}>
          <Form.Item name="daily_cap" label={t('rules.form.dailyCap')} extra={t('rules.form.capHelp')}>
            <InputNumber min={1} precision={0} style={{ width: '100%' }} />
          </Form.Item>
        </Col>
      </Row>

      <Typography.Title level={5}>{t('rules.form.multipliers')}</Typography.Title>
      <Typography.Paragraph type="secondary">{t('rules.form.multipliersHelp')}</Typography.Paragraph>
      <Form.List name="multipliers">
        {(fields, { add, remove }) => (
          <>
            {fields.map(({ key, name }) => (
              <Row gutter={8} key={key} align="top">
                <Col xs={12} md={4}>
                  <Form.Item name={[name, 'match']} label={t('rules.form.match')}>
                    <Select
                      options={[
                        { value: 'category', label: t('rules.form.category') },
                        { value: 'sku', label: t('rules.form.sku') },
                      ]}
                    />
                  </Form.Item>
                </Col>
                <Col xs={12} md={6}>
                  <Form.Item name={[name, 'value']} label={t('rules.form.matchValue')} rules={[req]}>
                    <Input maxLength={100} />
                  </Form.Item>
                </Col>
                <Col xs={12} md={4}>
                  <Form.Item name={[name, 'factor_permille']} label={t('rules.form.factor')} rules={[req]}>
                    {factor(0)}
                  </Form.Item>
                </Col>
                <Col xs={10} md={8}>
                  <Form.Item name={[name, 'label']} label={t('rules.form.label')}>
                    <Input maxLength={100} />
                  </Form.Item>
                </Col>
                <Col xs={2} md={2}>
                  <Form.Item label=" ">
                    <Button icon={<DeleteOutlined />} aria-label={t('rules.form.remove')} onClick={() => remove(name)} />
                  </Form.Item>
                </Col>
              </Row>
            ))}
            <Button icon={<PlusOutlined />} onClick={() => add({ match: 'category', factor_permille: 2 })} style={{ marginBottom: 16 }}>
              {t('rules.form.addMultiplier')}
            </Button>
          </>
        )}
      </Form.List>

      <Typography.Title level={5}>{t('rules.form.tiers')}</Typography.Title>
      <Form.Item name="tier_mode">
        <Radio.Group
          options={[
            { value: 'none', label: t('rules.form.tierNone') },
            { value: 'list', label: t('rules.form.tierList') },
            { value: 'benefit', label: t('rules.form.tierBenefit') },
          ]}
        />
      </Form.Item>
      <Form.Item noStyle shouldUpdate={(a, b) => a.tier_mode !== b.tier_mode}>
        {({ getFieldValue }) =>
          getFieldValue('tier_mode') === 'list' ? (
            <Form.List name="tier_multipliers">
              {(fields, { add, remove }) => (
                <>
                  {fields.map(({ key, name }) => (
                    <Row gutter={8} key={key}>
                      <Col xs={12} md={6}>
                        <Form.Item name={[name, 'tier']} label={t('rules.form.tier')} rules={[req]}>
                          <TierPicker />
                        </Form.Item>
                      </Col>
                      <Col xs={12} md={6}>
                        <Form.Item name={[name, 'factor_permille']} label={t('rules.form.factor')} rules={[req]}>
                          {factor(1)}
                        </Form.Item>
                      </Col>
                      <Col xs={20} md={10}>
                        <Form.Item name={[name, 'label']} label={t('rules.form.label')}>
                          <Input maxLength={100} />
                        </Form.Item>
                      </Col>
                      <Col xs={4} md={2}>
                        <Form.Item label=" ">
                          <Button icon={<DeleteOutlined />} aria-label={t('rules.form.remove')} onClick={() => remove(name)} />
                        </Form.Item>
                      </Col>
                    </Row>
                  ))}
                  <Button icon={<PlusOutlined />} onClick={() => add({ factor_permille: 1.5 })} style={{ marginBottom: 16 }}>
                    {t('rules.form.addTier')}
                  </Button>
                </>
              )}
            </Form.List>
          ) : getFieldValue('tier_mode') === 'benefit' ? (
            <Form.Item name="tier_benefit_label" label={t('rules.form.label')} extra={t('rules.form.tierBenefitHelp')}>
              <Input maxLength={100} />
            </Form.Item>
          ) : null
        }
      </Form.Item>

      <Typography.Title level={5}>{t('rules.form.birthday')}</Typography.Title>
      <Form.Item name={['birthday_month', 'enabled']} valuePropName="checked">
        <Checkbox>{t('rules.form.birthdayEnabled')}</Checkbox>
      </Form.Item>
      <Form.Item noStyle shouldUpdate={(a, b) => a.birthday_month?.enabled !== b.birthday_month?.enabled}>
        {({ getFieldValue }) =>
          getFieldValue(['birthday_month', 'enabled']) ? (
            <Row gutter={16}>
              <Col xs={12} md={6}>
                <Form.Item name={['birthday_month', 'factor_permille']} label={t('rules.form.factor')} rules={[req]}>
                  {factor(1)}
                </Form.Item>
              </Col>
              <Col xs={24} md={12}>
                <Form.Item name={['birthday_month', 'label']} label={t('rules.form.label')}>
                  <Input maxLength={100} />
                </Form.Item>
              </Col>
            </Row>
          ) : null
        }
      </Form.Item>

      <Typography.Title level={5}>{t('rules.form.promotions')}</Typography.Title>
      <Typography.Paragraph type="secondary">{t('rules.form.promotionsHelp')}</Typography.Paragraph>
      <Form.List name="promotions">
        {(fields, { add, remove }) => (
          <>
            {fields.map(({ key, name }) => (
              <Card
                key={key}
                size="small"
                style={{ marginBottom: 12 }}
                extra={<Button icon={<DeleteOutlined />} aria-label={t('rules.form.remove')} onClick={() => remove(name)} />}
              >
                <Row gutter={8}>
                  <Col xs={24} md={8}>
                    <Form.Item name={[name, 'name']} label={t('rules.form.promotionName')} rules={[req]}>
                      <Input maxLength={100} />
                    </Form.Item>
                  </Col>
                  <Col xs={12} md={8}>
                    <Form.Item name={[name, 'from']} label={t('rules.form.from')} rules={[req]}>
                      <Input type="date" />
                    </Form.Item>
                  </Col>
                  <Col xs={12} md={8}>
                    <Form.Item name={[name, 'to']} label={t('rules.form.to')} rules={[req]}>
                      <Input type="date" />
                    </Form.Item>
                  </Col>
                  <Col xs={24}>
                    <Form.Item name={[name, 'weekdays']} label={t('rules.form.weekdays')} extra={t('rules.form.weekdaysHelp')}>
                      <Checkbox.Group options={WEEKDAYS.map((d) => ({ value: d, label: t(`rules.weekday.${d}`) }))} />
                    </Form.Item>
                  </Col>
                  <Col xs={12} md={6}>
                    <Form.Item name={[name, 'hours', 'from']} label={t('rules.form.hoursFrom')}>
                      <InputNumber min={0} max={23} precision={0} style={{ width: '100%' }} />
                    </Form.Item>
                  </Col>
                  <Col xs={12} md={6}>
                    <Form.Item name={[name, 'hours', 'to']} label={t('rules.form.hoursTo')} extra={t('rules.form.hoursHelp')}>
                      <InputNumber min={1} max={24} precision={0} style={{ width: '100%' }} />
                    </Form.Item>
                  </Col>
                  <Col xs={12} md={6}>
                    <Form.Item name={[name, 'factor_permille']} label={t('rules.form.factor')}>
                      {factor(1)}
                    </Form.Item>
                  </Col>
                  <Col xs={12} md={6}>
                    <Form.Item name={[name, 'bonus_points']} label={t('rules.form.bonusPoints')}>
                      <InputNumber min={1} precision={0} style={{ width: '100%' }} />
                    </Form.Item>
                  </Col>
                </Row>
              </Card>
            ))}
            <Button icon={<PlusOutlined />} onClick={() => add({ weekdays: [], hours: {}, factor_permille: 2 })} style={{ marginBottom: 16 }}>
              {t('rules.form.addPromotion')}
            </Button>
          </>
        )}
      </Form.List>

      <Typography.Title level={5}>{t('rules.form.spendBonuses')}</Typography.Title>
      <Typography.Paragraph type="secondary">{t('rules.form.spendBonusesHelp')}</Typography.Paragraph>
      <Form.List name="spend_bonuses">
        {(fields, { add, remove }) => (
          <>
            {fields.map(({ key, name }) => (
              <Space wrap align="start" key={key}>
                <Form.Item name={[name, 'min_amount']} label={t('rules.form.spendAtLeast', { currency: currencySymbol(currency) })} rules={[req]}>
                  <InputNumber min={0.01} precision={2} data-testid="rule-spend-bonus-min" />
                </Form.Item>
                <Form.Item name={[name, 'points']} label={t('rules.form.bonusPoints')} rules={[req]}>
                  <InputNumber min={1} precision={0} data-testid="rule-spend-bonus-points" />
                </Form.Item>
                <Form.Item name={[name, 'label']} label={t('rules.form.label')}>
                  <Input maxLength={100} />
                </Form.Item>
                <Form.Item label=" ">
                  <Button icon={<DeleteOutlined />} onClick={() => remove(name)} aria-label={t('rules.form.remove')} />
                </Form.Item>
              </Space>
            ))}
            <div>
              <Button icon={<PlusOutlined />} onClick={() => add({})} style={{ marginBottom: 16 }} data-testid="rule-spend-bonus-add">
                {t('rules.form.addSpendBonus')}
              </Button>
            </div>
          </>
        )}
      </Form.List>

      <Typography.Title level={5}>{t('rules.form.firstPurchase')}</Typography.Title>
      <Form.Item name={['first_purchase_bonus', 'enabled']} valuePropName="checked">
        <Checkbox data-testid="rule-first-purchase">{t('rules.form.firstPurchaseEnabled')}</Checkbox>
      </Form.Item>
      <Form.Item noStyle shouldUpdate={(a, b) => a.first_purchase_bonus?.enabled !== b.first_purchase_bonus?.enabled}>
        {({ getFieldValue }) =>
          getFieldValue(['first_purchase_bonus', 'enabled']) ? (
            <Space wrap align="start">
              <Form.Item name={['first_purchase_bonus', 'points']} label={t('rules.form.bonusPoints')} rules={[req]}>
                <InputNumber min={1} precision={0} data-testid="rule-first-purchase-points" />
              </Form.Item>
              <Form.Item name={['first_purchase_bonus', 'label']} label={t('rules.form.label')}>
                <Input maxLength={100} />
              </Form.Item>
            </Space>
          ) : null
        }
      </Form.Item>

      <Typography.Title level={5}>{t('rules.form.coupon')}</Typography.Title>
      <Form.Item name="coupon_template_id" label={t('rules.form.couponTemplate')} extra={t('rules.form.couponHelp')}>
        <CouponTemplateSelect data-testid="rule-coupon" />
      </Form.Item>
    </>
  );
}

/** A tier by its name (the ladder in force, else the draft); its code is what the form keeps. */
function TierPicker({ value, onChange, id }: { value?: string; onChange?: (v: string) => void; id?: string }) {
  const { i18n } = useTranslation();
  const tiers = useQuery({ queryKey: tiersKeys.overview(), queryFn: fetchTiersOverview, retry: false });
  const ladder = tiers.data?.active?.ladder ?? tiers.data?.draft?.ladder;
  if (!ladder) return <Input id={id} maxLength={100} value={value} onChange={(e) => onChange?.(e.target.value)} />;
  const options = ladder.tiers.map((x) => ({ value: x.code, label: nameIn(x.name, i18n.language) || x.code }));
  if (value && !options.some((o) => o.value === value)) options.push({ value, label: value });
  return <Select id={id} value={value} onChange={onChange} options={options} showSearch optionFilterProp="label" />;
}
