// The activity form: what it is, when (on the business's clock), where, who organises it,
// seats and who may join (tiers, and a segment: the member search's conditions), the price
// (free, points, stored value in yuan, or one visit of a pass product chosen by name) and
// points for attending, the sign-up window, the
// cancellation deadline, approval, how long a freed seat is held, and the budget.
import { useState } from 'react';
import { App, Col, Form, Input, InputNumber, Modal, Radio, Row, Select, Typography } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useAuth } from '../auth/AuthContext';
import { applyServerErrors } from '../common/forms';
import { zoneName } from '../common/format';
import { prepaidKeys, fetchProducts } from '../prepaid/api';
import { toMinor } from '../prepaid/money';
import { fetchStaff, staffKeys } from '../staff/api';
import { activityKeys, createActivity, updateActivity, type Activity, type ActivityInput } from './api';
import { CoverPicture } from './Pictures';
import { PRICE_KINDS, type PriceKind } from './price';
import { SEGMENT_ITEMS, segmentOf, type SegmentValues } from './segment';
import { fromLocalInput, toLocalInput } from './time';

interface Values {
  title: string;
  description?: string;
  cover_url?: string;
  cover_upload_id?: string | null;
  starts_at: string;
  ends_at: string;
  place?: string;
  organisers?: string[];
  capacity: number;
  tiers?: string[];
  price_kind: PriceKind;
  price_points?: number;
  /** Yuan as typed; sent in fen. */
  price_fen?: number;
  pass_product_id?: string;
  attend_points?: number;
  signup_opens_at?: string;
  signup_closes_at?: string;
  cancel_until?: string;
  approval: ActivityInput['approval'];
  offer_minutes?: number;
  budget?: number;
  segment?: SegmentValues;
}

const ITEMS = [
  'title',
  'description',
  'cover_url',
  'cover_upload_id',
  'starts_at',
  'ends_at',
  'place',
  'organisers',
  'capacity',
  'tiers',
  'price_kind',
  'price_points',
  'price_fen',
  'pass_product_id',
  'attend_points',
  'signup_opens_at',
  'signup_closes_at',
  'cancel_until',
  'approval',
  'offer_minutes',
  'budget',
  ...SEGMENT_ITEMS.map((k) => `segment.${k}`),
] as const;

export function ActivityFormModal({
  activity,
  onClose,
  onSaved,
}: {
  activity?: Activity;
  onClose: () => void;
  onSaved: (a: Activity) => void;
}) {
  const { t } = useTranslation();
  const { me, can } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const zone = me?.tenant.time_zone ?? 'Asia/Shanghai';
  const [form] = Form.useForm<Values>();
  const [error, setError] = useState<string>();
  const staff = useQuery({ queryKey: staffKeys.all, queryFn: fetchStaff, enabled: can('staff:read'), retry: false });
  const products = useQuery({ queryKey: prepaidKeys.products(), queryFn: fetchProducts, retry: false });
  const save = useMutation({
    mutationFn: (v: Values) => {
      const body: ActivityInput = {
        title: v.title.trim(),
        description: (v.description ?? '').trim(),
        cover_url: v.cover_url?.trim() || undefined,
        cover_upload_id: v.cover_upload_id || undefined,
        starts_at: fromLocalInput(v.starts_at, zone) ?? '',
        ends_at: fromLocalInput(v.ends_at, zone) ?? '',
        place: (v.place ?? '').trim(),
        organisers: v.organisers ?? [],
        capacity: v.capacity,
        tiers: v.tiers ?? [],
        price_kind: v.price_kind,
        price_points: v.price_kind === 'points' ? (v.price_points ?? 0) : 0,
        price_fen: v.price_kind === 'stored_value' ? toMinor(v.price_fen) : 0,
        pass_product_id: v.price_kind === 'pass' ? v.pass_product_id : undefined,
        attend_points: v.attend_points ?? 0,
        signup_opens_at: fromLocalInput(v.signup_opens_at, zone),
        signup_closes_at: fromLocalInput(v.signup_closes_at, zone),
        cancel_until: fromLocalInput(v.cancel_until, zone),
        approval: v.approval,
        offer_minutes: v.offer_minutes ?? undefined,
        budget: v.budget === undefined || v.budget === null ? undefined : toMinor(v.budget),
        segment: segmentOf(v.segment),
      };
      return activity ? updateActivity(activity.id, body) : createActivity(body);
    },
    onSuccess: (a) => {
      void qc.invalidateQueries({ queryKey: activityKeys.all });
      void message.success(t(activity ? 'activities.form.saved' : 'activities.form.created', { title: a.title }));
      onSaved(a);
    },
    onError: (err) => setError(applyServerErrors(t, form, err, ITEMS)),
  });
  const required = { required: true, message: t('validation.required') };
  const initial: Partial<Values> = activity
    ? {
        title: activity.title,
        description: activity.description,
        cover_url: activity.cover_url ?? undefined,
        cover_upload_id: activity.cover_upload_id ?? undefined,
        starts_at: toLocalInput(activity.starts_at, zone),
        ends_at: toLocalInput(activity.ends_at, zone),
        place: activity.place,
        organisers: activity.organisers.map((o) => o.id),
        capacity: activity.capacity,
        tiers: activity.tiers,
        price_kind: (activity.price_kind as PriceKind) ?? 'free',
        price_points: activity.price_points,
        price_fen: activity.price_fen ? activity.price_fen / 100 : undefined,
        pass_product_id: activity.pass_product_id ?? undefined,
        attend_points: activity.attend_points,
        signup_opens_at: toLocalInput(activity.signup_opens_at, zone),
        signup_closes_at: toLocalInput(activity.signup_closes_at, zone),
        cancel_until: toLocalInput(activity.cancel_until, zone),
        approval: activity.approval as Values['approval'],
        offer_minutes: activity.offer_minutes,
        budget: activity.budget === null || activity.budget === undefined ? undefined : activity.budget / 100,
        segment: activity.segment
          ? {
              name: activity.segment.name ?? undefined,
              tags: activity.segment.tags ?? [],
              tier: activity.segment.tier ?? undefined,
              joined_from: activity.segment.joined_from ?? undefined,
              joined_to: activity.segment.joined_to ?? undefined,
            }
          : undefined,
      }
    : { approval: 'automatic', capacity: 20, offer_minutes: 1440, price_kind: 'free', price_points: 0, attend_points: 0 };
  const priceKind = Form.useWatch('price_kind', form) ?? initial.price_kind;
  const when = (name: keyof Values, label: string, req = false) => (
    <Form.Item name={name} label={t(label)} rules={req ? [required] : []}>
      <Input type="datetime-local" data-testid={`activity-${name}`} />
    </Form.Item>
  );
  return (
    <Modal
      open
      width={720}
      title={t(activity ? 'activities.form.edit' : 'activities.new')}
      onCancel={onClose}
      okText={t(activity ? 'activities.form.save' : 'activities.form.create')}
      cancelText={t('common.cancel')}
      confirmLoading={save.isPending}
      onOk={() => form.submit()}
      okButtonProps={{ ...({ 'data-testid': 'activity-submit' } as Record<`data-${string}`, string>) }}
    >
      {error && (
        <Typography.Paragraph type="danger" role="alert" data-testid="activity-form-error">
          {error}
        </Typography.Paragraph>
      )}
      <Typography.Paragraph type="secondary">{t('activities.form.zone', { zone: zoneName(t, zone) })}</Typography.Paragraph>
      <Form<Values>
        form={form}
        layout="vertical"
        name="activity"
        initialValues={initial}
        onFinish={(v) => {
          setError(undefined);
          save.mutate(v);
        }}
      >
        <Form.Item name="title" label={t('activities.field.title')} rules={[required, { max: 100 }]}>
          <Input maxLength={100} data-testid="activity-title" />
        </Form.Item>
        <Form.Item name="description" label={t('activities.field.description')} rules={[{ max: 4000 }]}>
          <Input.TextArea rows={3} maxLength={4000} data-testid="activity-description" />
        </Form.Item>
        <Row gutter={12}>
          <Col xs={24} sm={12}>
            {when('starts_at', 'activities.field.starts_at', true)}
          </Col>
          <Col xs={24} sm={12}>
            {when('ends_at', 'activities.field.ends_at', true)}
          </Col>
        </Row>
        <Row gutter={12}>
          <Col xs={24} sm={12}>
            <Form.Item name="place" label={t('activities.field.place')} rules={[{ max: 200 }]}>
              <Input maxLength={200} data-testid="activity-place" />
            </Form.Item>
          </Col>
          <Col xs={24} sm={12}>
            <Form.Item name="cover_url" label={t('activities.field.cover_url')} rules={[{ max: 500 }]}>
              <Input maxLength={500} placeholder="https://" data-testid="activity-cover" />
            </Form.Item>
          </Col>
        </Row>
        <Form.Item name="cover_upload_id" label={t('activities.field.cover_upload_id')}>
          <CoverPicture initialUrl={activity?.cover_upload_id ? activity.cover_picture_url : null} />
        </Form.Item>
        <Form.Item name="organisers" label={t('activities.field.organisers')}>
          <Select
            mode="multiple"
            allowClear
            data-testid="activity-organisers"
            options={(staff.data ?? []).map((s) => ({ value: s.id, label: s.name }))}
          />
        </Form.Item>
        <Row gutter={12}>
          <Col xs={12} sm={6}>
            <Form.Item name="capacity" label={t('activities.field.capacity')} rules={[required]}>
              <InputNumber min={1} max={100000} precision={0} style={{ width: '100%' }} data-testid="activity-capacity" />
            </Form.Item>
          </Col>
          <Col xs={12} sm={6}>
            <Form.Item name="attend_points" label={t('activities.field.attend_points')}>
              <InputNumber min={0} max={1000000} precision={0} style={{ width: '100%' }} data-testid="activity-attend-points" />
            </Form.Item>
          </Col>
          <Col xs={12} sm={6}>
            <Form.Item name="budget" label={t('activities.field.budget')}>
              <InputNumber min={0} precision={2} style={{ width: '100%' }} data-testid="activity-budget" />
            </Form.Item>
          </Col>
        </Row>
        <Row gutter={12}>
          <Col xs={24} sm={12}>
            <Form.Item name="price_kind" label={t('activities.field.price_kind')}>
              <Select
                data-testid="activity-price-kind"
                options={PRICE_KINDS.map((k) => ({ value: k, label: t(`activities.price.kind.${k}`) }))}
              />
            </Form.Item>
          </Col>
          <Col xs={24} sm={12}>
            {priceKind === 'points' && (
              <Form.Item name="price_points" label={t('activities.field.price_points')} rules={[required]}>
                <InputNumber min={1} max={1000000} precision={0} style={{ width: '100%' }} data-testid="activity-price" />
              </Form.Item>
            )}
            {priceKind === 'stored_value' && (
              <Form.Item name="price_fen" label={t('activities.field.price_fen')} rules={[required]}>
                <InputNumber
                  min={0.01}
                  max={1000000}
                  precision={2}
                  prefix="¥"
                  style={{ width: '100%' }}
                  data-testid="activity-price-fen"
                />
              </Form.Item>
            )}
            {priceKind === 'pass' && (
              <Form.Item name="pass_product_id" label={t('activities.field.pass_product_id')} rules={[required]}>
                <Select
                  showSearch
                  optionFilterProp="label"
                  data-testid="activity-pass-product"
                  loading={products.isLoading}
                  options={(products.data ?? [])
                    .filter((p) => !p.archived || p.id === activity?.pass_product_id)
                    .map((p) => ({ value: p.id, label: p.name }))}
                />
              </Form.Item>
            )}
          </Col>
        </Row>
        <Form.Item name="tiers" label={t('activities.field.tiers')} extra={t('activities.form.tiersHelp')}>
          <Select mode="tags" open={false} tokenSeparators={[',', '，']} data-testid="activity-tiers" />
        </Form.Item>
        <Typography.Text type="secondary">{t('activities.form.segmentHelp')}</Typography.Text>
        <Row gutter={12}>
          <Col xs={24} sm={8}>
            <Form.Item name={['segment', 'name']} label={t('activities.field.segmentName')}>
              <Input maxLength={100} data-testid="activity-segment-name" />
            </Form.Item>
          </Col>
          <Col xs={24} sm={8}>
            <Form.Item name={['segment', 'tags']} label={t('activities.field.segmentTags')}>
              <Select mode="tags" open={false} tokenSeparators={[',', '，']} data-testid="activity-segment-tags" />
            </Form.Item>
          </Col>
          <Col xs={24} sm={8}>
            <Form.Item name={['segment', 'tier']} label={t('activities.field.segmentTier')}>
              <Input maxLength={32} data-testid="activity-segment-tier" />
            </Form.Item>
          </Col>
          <Col xs={12} sm={8}>
            <Form.Item name={['segment', 'joined_from']} label={t('activities.field.segmentJoinedFrom')}>
              <Input type="date" data-testid="activity-segment-joined-from" />
            </Form.Item>
          </Col>
          <Col xs={12} sm={8}>
            <Form.Item name={['segment', 'joined_to']} label={t('activities.field.segmentJoinedTo')}>
              <Input type="date" data-testid="activity-segment-joined-to" />
            </Form.Item>
          </Col>
        </Row>
        <Row gutter={12}>
          <Col xs={24} sm={8}>
            {when('signup_opens_at', 'activities.field.signup_opens_at')}
          </Col>
          <Col xs={24} sm={8}>
            {when('signup_closes_at', 'activities.field.signup_closes_at')}
          </Col>
          <Col xs={24} sm={8}>
            {when('cancel_until', 'activities.field.cancel_until')}
          </Col>
        </Row>
        <Row gutter={12}>
          <Col xs={24} sm={12}>
            <Form.Item name="approval" label={t('activities.field.approval')} rules={[required]}>
              <Radio.Group data-testid="activity-approval">
                <Radio value="automatic">{t('activities.approval.automatic')}</Radio>
                <Radio value="staff">{t('activities.approval.staff')}</Radio>
              </Radio.Group>
            </Form.Item>
          </Col>
          <Col xs={24} sm={12}>
            <Form.Item name="offer_minutes" label={t('activities.field.offer_minutes')} extra={t('activities.form.offerHelp')}>
              <InputNumber min={5} max={10080} precision={0} style={{ width: '100%' }} data-testid="activity-offer" />
            </Form.Item>
          </Col>
        </Row>
      </Form>
    </Modal>
  );
}
