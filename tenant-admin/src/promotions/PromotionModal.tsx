// The form that creates a promotion or edits a draft: name, description, the days (the
// business's time zone), the audience (everyone or tiers) and what it gives: a points
// multiplier or a bonus on purchases, a coupon template for each member who buys, reduced
// points prices for mall items.
import { useState } from 'react';
import { App, Button, DatePicker, Form, Input, InputNumber, Modal, Select, Space, Typography } from 'antd';
import { MinusCircleOutlined, PlusOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import dayjs, { type Dayjs } from 'dayjs';
import { applyServerErrors } from '../common/forms';
import { nameIn } from '../common/format';
import { couponKeys, fetchTemplates } from '../coupons/api';
import { fetchItems, mallKeys } from '../mall/api';
import { fetchTiersOverview, tiersKeys } from '../tiers/api';
import { createPromotion, promotionKeys, updatePromotion, type Promotion, type PromotionInput } from './api';

/** The tiers of the ladder in force: code and name in the console's language. */
export function useTierNames(): { code: string; name: string }[] {
  const { i18n } = useTranslation();
  const q = useQuery({ queryKey: tiersKeys.overview(), queryFn: fetchTiersOverview, retry: false, staleTime: 60_000 });
  return (q.data?.active?.ladder.tiers ?? []).map((t) => ({ code: t.code, name: nameIn(t.name, i18n.language) || t.code }));
}

interface PromotionForm {
  name: string;
  description?: string;
  period: [Dayjs, Dayjs];
  tiers?: string[];
  multiplier?: number | null;
  bonus_points?: number | null;
  coupon_template_id?: string | null;
  mall_items?: { item_id: string; points: number }[];
}

const FIELDS = ['name', 'description', 'period', 'tiers', 'multiplier', 'bonus_points', 'coupon_template_id', 'mall_items'];

export function PromotionModal({
  promotion,
  tiers,
  onClose,
}: {
  promotion?: Promotion;
  tiers: { code: string; name: string }[];
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm<PromotionForm>();
  const [error, setError] = useState<string>();
  const templates = useQuery({ queryKey: couponKeys.templates(), queryFn: fetchTemplates, retry: false });
  const items = useQuery({ queryKey: mallKeys.items(false), queryFn: () => fetchItems(false), retry: false });
  const save = useMutation({
    mutationFn: (v: PromotionForm) => {
      const body: PromotionInput = {
        name: v.name.trim(),
        description: v.description?.trim() || undefined,
        starts_on: v.period[0].format('YYYY-MM-DD'),
        ends_on: v.period[1].format('YYYY-MM-DD'),
        tiers: v.tiers ?? [],
        multiplier: v.multiplier ?? undefined,
        bonus_points: v.bonus_points ?? undefined,
        coupon_template_id: v.coupon_template_id ?? undefined,
        mall_items: (v.mall_items ?? []).filter((i) => i?.item_id),
      };
      return promotion ? updatePromotion(promotion.id, body) : createPromotion(body);
    },
    onSuccess: (p) => {
      void qc.invalidateQueries({ queryKey: promotionKeys.all });
      void message.success(t(promotion ? 'promotions.saved' : 'promotions.created', { name: p.name }));
      onClose();
    },
    onError: (err) =>
      setError(
        applyServerErrors(t, form, err, FIELDS, {
          starts_on: 'period',
          ends_on: 'period',
        }),
      ),
  });
  const required = { required: true, message: t('validation.required') };
  const initial: Partial<PromotionForm> = promotion
    ? {
        name: promotion.name,
        description: promotion.description,
        period: [dayjs(promotion.starts_on), dayjs(promotion.ends_on)],
        tiers: promotion.tiers,
        multiplier: promotion.multiplier ?? null,
        bonus_points: promotion.bonus_points ?? null,
        coupon_template_id: promotion.coupon_template_id ?? null,
        mall_items: promotion.mall_items.map((i) => ({ item_id: i.item_id, points: i.points })),
      }
    : {};
  return (
    <Modal
      open
      title={promotion ? t('promotions.editTitle', { name: promotion.name }) : t('promotions.new')}
      onCancel={onClose}
      okText={t('common.save')}
      cancelText={t('common.cancel')}
      confirmLoading={save.isPending}
      onOk={() => form.submit()}
      okButtonProps={{ ...({ 'data-testid': 'promotion-submit' } as Record<`data-${string}`, string>) }}
      width={640}
    >
      {error && (
        <Typography.Paragraph type="danger" role="alert">
          {error}
        </Typography.Paragraph>
      )}
      <Form<PromotionForm>
        form={form}
        layout="vertical"
        name="promotion"
        initialValues={initial}
        onFinish={(v) => {
          setError(undefined);
          save.mutate(v);
        }}
      >
        <Form.Item name="name" label={t('promotions.name')} rules={[required, { max: 100 }]}>
          <Input maxLength={100} placeholder={t('promotions.namePlaceholder')} data-testid="promotion-name" />
        </Form.Item>
        <Form.Item name="description" label={t('promotions.description')}>
          <Input.TextArea maxLength={2000} rows={2} data-testid="promotion-description" />
        </Form.Item>
        <Form.Item name="period" label={t('promotions.period')} extra={t('promotions.periodHelp')} rules={[required]}>
          <DatePicker.RangePicker style={{ width: '100%' }} data-testid="promotion-period" />
        </Form.Item>
        <Form.Item name="tiers" label={t('promotions.audience')} extra={t('promotions.audienceHelp')}>
          <Select mode="multiple" allowClear options={tiers.map((x) => ({ value: x.code, label: x.name }))} data-testid="promotion-tiers" />
        </Form.Item>
        <Typography.Text strong>{t('promotions.gives.title')}</Typography.Text>
        <Typography.Paragraph type="secondary">{t('promotions.gives.help')}</Typography.Paragraph>
        <Space wrap align="start">
          <Form.Item name="multiplier" label={t('promotions.multiplier')} extra={t('promotions.multiplierHelp')}>
            <InputNumber min={1.01} max={10} step={0.5} precision={2} prefix="×" data-testid="promotion-multiplier" />
          </Form.Item>
          <Form.Item name="bonus_points" label={t('promotions.bonus')} extra={t('promotions.bonusHelp')}>
            <InputNumber min={1} max={1000000} precision={0} data-testid="promotion-bonus" />
          </Form.Item>
        </Space>
        <Form.Item name="coupon_template_id" label={t('promotions.coupon')} extra={t('promotions.couponHelp')}>
          <Select
            allowClear
            showSearch
            optionFilterProp="label"
            loading={templates.isPending}
            options={(templates.data ?? []).filter((x) => !x.archived).map((x) => ({ value: x.id, label: x.name }))}
            data-testid="promotion-coupon"
          />
        </Form.Item>
        <Typography.Text>{t('promotions.mall')}</Typography.Text>
        <Form.List name="mall_items">
          {(fields, { add, remove }) => (
            <>
              {fields.map((f) => (
                <Space key={f.key} align="baseline" wrap>
                  <Form.Item name={[f.name, 'item_id']} rules={[required]} style={{ minWidth: 220 }}>
                    <Select
                      showSearch
                      optionFilterProp="label"
                      placeholder={t('promotions.mallItem')}
                      options={(items.data ?? []).map((x) => ({ value: x.id, label: `${x.name} (${x.points})` }))}
                      data-testid="promotion-mall-item"
                    />
                  </Form.Item>
                  <Form.Item name={[f.name, 'points']} rules={[required]}>
                    <InputNumber min={1} precision={0} placeholder={t('promotions.mallPoints')} data-testid="promotion-mall-points" />
                  </Form.Item>
                  <MinusCircleOutlined onClick={() => remove(f.name)} aria-label={t('promotions.mallRemove')} />
                </Space>
              ))}
              <Form.Item>
                <Button type="dashed" onClick={() => add()} icon={<PlusOutlined />} data-testid="promotion-mall-add">
                  {t('promotions.mallAdd')}
                </Button>
              </Form.Item>
            </>
          )}
        </Form.List>
      </Form>
    </Modal>
  );
}
