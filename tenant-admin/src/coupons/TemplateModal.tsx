// The form of a coupon template: its name, what it gives (the fields follow the kind),
// validity, when and where it may be used, stacking, the refund policy and its quantities.
// Saving a change makes a new version; coupons already given keep their terms.
import { useState } from 'react';
import { App, Checkbox, Col, Form, Input, InputNumber, Modal, Radio, Row, Select, Switch, Typography } from 'antd';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { applyServerErrors } from '../common/forms';
import { couponKeys, createTemplate, KINDS, updateTemplate, type CouponTemplate } from './api';
import { templateBody, templateForm, type TemplateForm } from './terms';

const WEEKDAYS = [1, 2, 3, 4, 5, 6, 7];

export function TemplateModal({ template, onClose }: { template?: CouponTemplate; onClose: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm<TemplateForm>();
  const [error, setError] = useState<string>();
  const kind = Form.useWatch('kind', form) ?? template?.terms.kind ?? 'amount_off';
  const validity = Form.useWatch('validity', form) ?? 'days';
  const claimable = Form.useWatch('claimable', form);
  const save = useMutation({
    mutationFn: (v: TemplateForm) => (template ? updateTemplate(template.id, templateBody(v)) : createTemplate(templateBody(v))),
    onSuccess: (saved) => {
      void qc.invalidateQueries({ queryKey: couponKeys.templates() });
      void message.success(t(template ? 'coupons.form.saved' : 'coupons.form.created', { name: saved.name }));
      onClose();
    },
    onError: (err) =>
      setError(
        applyServerErrors(t, form, err, [
          'name', 'total', 'per_member', 'per_day', 'points_price', 'shared_code',
        ]),
      ),
  });
  const required = { required: true, message: t('validation.required') };
  const initial: Partial<TemplateForm> = template
    ? templateForm(template)
    : { kind: 'amount_off', validity: 'days', valid_days: 30, stacking: 'exclusive', on_refund: 'restore', claimable: false, points_price: 0 };
  const yuan = (name: keyof TemplateForm, label: string, testId: string, req = true) => (
    <Form.Item name={name} label={label} rules={req ? [required] : []}>
      <InputNumber min={0} precision={2} prefix="¥" style={{ width: '100%' }} data-testid={testId} />
    </Form.Item>
  );
  return (
    <Modal
      open
      width={720}
      title={template ? t('coupons.form.editTitle', { name: template.name }) : t('coupons.new')}
      onCancel={onClose}
      okText={t('coupons.form.save')}
      cancelText={t('common.cancel')}
      confirmLoading={save.isPending}
      onOk={() => form.submit()}
      okButtonProps={{ ...({ 'data-testid': 'coupon-template-submit' } as Record<`data-${string}`, string>) }}
    >
      {template && <Typography.Paragraph type="secondary">{t('coupons.form.versionNote')}</Typography.Paragraph>}
      {error && (
        <Typography.Paragraph type="danger" role="alert" data-testid="coupon-template-error">
          {error}
        </Typography.Paragraph>
      )}
      <Form<TemplateForm>
        form={form}
        layout="vertical"
        name="coupon-template"
        initialValues={initial}
        onFinish={(v) => {
          setError(undefined);
          save.mutate(v);
        }}
      >
        <Form.Item name="name" label={t('coupons.name')} rules={[required, { max: 100 }]}>
          <Input maxLength={100} data-testid="coupon-template-name" />
        </Form.Item>
        <Form.Item name="kind" label={t('coupons.form.kind')} rules={[required]}>
          <Select
            data-testid="coupon-template-kind"
            options={KINDS.map((k) => ({ value: k, label: t(`coupons.kind.${k}`) }))}
          />
        </Form.Item>
        <Row gutter={12}>
          {(kind === 'amount_off' || kind === 'threshold') && (
            <Col xs={24} sm={12}>{yuan('amount', t('coupons.form.amount'), 'coupon-template-amount')}</Col>
          )}
          {kind === 'percent_off' && (
            <>
              <Col xs={24} sm={12}>
                <Form.Item name="percent" label={t('coupons.form.percent')} rules={[required]}>
                  <InputNumber min={1} max={99} precision={0} suffix="%" style={{ width: '100%' }} data-testid="coupon-template-percent" />
                </Form.Item>
              </Col>
              <Col xs={24} sm={12}>{yuan('cap', t('coupons.form.cap'), 'coupon-template-cap', false)}</Col>
            </>
          )}
          {kind === 'gift' && (
            <Col xs={24} sm={12}>
              <Form.Item name="gift" label={t('coupons.form.gift')} rules={[required, { max: 100 }]}>
                <Input maxLength={100} data-testid="coupon-template-gift" />
              </Form.Item>
            </Col>
          )}
          <Col xs={24} sm={12}>{yuan('min_spend', t('coupons.form.minSpend'), 'coupon-template-min-spend', kind === 'threshold')}</Col>
        </Row>
        <Form.Item name="validity" label={t('coupons.form.validity')}>
          <Radio.Group
            options={[
              { value: 'days', label: t('coupons.form.validityDays') },
              { value: 'window', label: t('coupons.form.validityWindow') },
            ]}
          />
        </Form.Item>
        {validity === 'days' ? (
          <Form.Item name="valid_days" label={t('coupons.form.validDays')} rules={[required]}>
            <InputNumber min={1} max={3660} precision={0} style={{ width: '100%' }} data-testid="coupon-template-valid-days" />
          </Form.Item>
        ) : (
          <Row gutter={12}>
            <Col xs={24} sm={12}>
              <Form.Item name="valid_from" label={t('coupons.form.validFrom')} rules={[required]} getValueFromEvent={(e) => toIso(e.target.value)} getValueProps={(v) => ({ value: fromIso(v) })}>
                <Input type="datetime-local" data-testid="coupon-template-valid-from" />
              </Form.Item>
            </Col>
            <Col xs={24} sm={12}>
              <Form.Item name="valid_until" label={t('coupons.form.validUntil')} rules={[required]} getValueFromEvent={(e) => toIso(e.target.value)} getValueProps={(v) => ({ value: fromIso(v) })}>
                <Input type="datetime-local" data-testid="coupon-template-valid-until" />
              </Form.Item>
            </Col>
          </Row>
        )}
        <Form.Item name="weekdays" label={t('coupons.form.weekdays')} extra={t('coupons.form.anyWhenEmpty')}>
          <Checkbox.Group options={WEEKDAYS.map((d) => ({ value: d, label: t(`coupons.weekday.${d}`) }))} />
        </Form.Item>
        <Row gutter={12}>
          <Col xs={12}>
            <Form.Item name="hours_from" label={t('coupons.form.hoursFrom')}>
              <InputNumber min={0} max={23} precision={0} style={{ width: '100%' }} />
            </Form.Item>
          </Col>
          <Col xs={12}>
            <Form.Item name="hours_until" label={t('coupons.form.hoursUntil')}>
              <InputNumber min={1} max={24} precision={0} style={{ width: '100%' }} />
            </Form.Item>
          </Col>
        </Row>
        <Form.Item name="excluded_dates" label={t('coupons.form.excludedDates')} extra={t('coupons.form.datesHelp')}>
          <Select mode="tags" open={false} tokenSeparators={[',', '，', ' ']} />
        </Form.Item>
        <Row gutter={12}>
          {(['categories', 'skus', 'stores', 'tiers'] as const).map((k) => (
            <Col xs={24} sm={12} key={k}>
              <Form.Item name={k} label={t(`coupons.form.${k}`)} extra={t('coupons.form.anyWhenEmpty')}>
                <Select mode="tags" open={false} tokenSeparators={[',', '，']} />
              </Form.Item>
            </Col>
          ))}
        </Row>
        <Row gutter={12}>
          <Col xs={24} sm={12}>
            <Form.Item name="stacking" label={t('coupons.form.stacking')}>
              <Radio.Group
                options={[
                  { value: 'exclusive', label: t('coupons.stacking.exclusive') },
                  { value: 'combinable', label: t('coupons.stacking.combinable') },
                ]}
              />
            </Form.Item>
          </Col>
          <Col xs={24} sm={12}>
            <Form.Item name="max_per_purchase" label={t('coupons.form.maxPerPurchase')}>
              <InputNumber min={1} max={5} precision={0} style={{ width: '100%' }} />
            </Form.Item>
          </Col>
        </Row>
        <Form.Item name="on_refund" label={t('coupons.form.onRefund')}>
          <Radio.Group
            options={[
              { value: 'restore', label: t('coupons.onRefund.restore') },
              { value: 'forfeit', label: t('coupons.onRefund.forfeit') },
            ]}
          />
        </Form.Item>
        <Row gutter={12}>
          {(['total', 'per_member', 'per_day'] as const).map((k) => (
            <Col xs={24} sm={8} key={k}>
              <Form.Item name={k} label={t(`coupons.form.${k}`)} extra={t('coupons.form.noLimit')}>
                <InputNumber min={1} precision={0} style={{ width: '100%' }} data-testid={`coupon-template-${k}`} />
              </Form.Item>
            </Col>
          ))}
        </Row>
        <Row gutter={12}>
          <Col xs={24} sm={8}>
            <Form.Item name="claimable" label={t('coupons.form.claimable')} valuePropName="checked">
              <Switch data-testid="coupon-template-claimable" />
            </Form.Item>
          </Col>
          {claimable && (
            <Col xs={24} sm={8}>
              <Form.Item name="points_price" label={t('coupons.form.pointsPrice')}>
                <InputNumber min={0} precision={0} style={{ width: '100%' }} data-testid="coupon-template-points-price" />
              </Form.Item>
            </Col>
          )}
          <Col xs={24} sm={8}>
            <Form.Item name="shared_code" label={t('coupons.form.sharedCode')} rules={[{ max: 40 }]}>
              <Input maxLength={40} />
            </Form.Item>
          </Col>
        </Row>
      </Form>
    </Modal>
  );
}

/** `datetime-local` text (the browser's zone) as an instant. */
function toIso(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** An instant as `datetime-local` text. */
function fromIso(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
