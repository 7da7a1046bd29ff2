// 商品: the mall's catalogue (price in points or points + cash, stock, limits, tiers, the
// window it is offered in, how it is delivered) and the form that adds or edits an item.
// Items are archived, never deleted.
import { useState } from 'react';
import { App, Button, DatePicker, Form, Input, InputNumber, Modal, Select, Space, Switch, Table, Tag, Typography } from 'antd';
import { EditOutlined, PlusOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import dayjs, { type Dayjs } from 'dayjs';
import { applyServerErrors, errorText } from '../common/forms';
import { formatDateTime, nameIn } from '../common/format';
import { useAuth } from '../auth/AuthContext';
import { ArchiveToggle } from '../prepaid/parts';
import { toMinor } from '../prepaid/money';
import { fetchTiersOverview, tiersKeys } from '../tiers/api';
import { CouponTemplateSelect } from '../coupons/TemplateSelect';
import { createItem, fetchItems, mallKeys, setItemArchived, updateItem, type MallItem, type MallItemInput } from './api';
import { usePrice } from './parts';
import { CoverPicture } from '../activities/Pictures';

/** The tiers of the ladder in force: code and name in the console's language. */
function useTierNames(): { code: string; name: string }[] {
  const { i18n } = useTranslation();
  const q = useQuery({ queryKey: tiersKeys.overview(), queryFn: fetchTiersOverview, retry: false, staleTime: 60_000 });
  return (q.data?.active?.ladder.tiers ?? []).map((t) => ({ code: t.code, name: nameIn(t.name, i18n.language) || t.code }));
}

export function ItemsTab() {
  const { t, i18n } = useTranslation();
  const { can } = useAuth();
  const price = usePrice();
  const tiers = useTierNames();
  const [archived, setArchived] = useState(false);
  const [editing, setEditing] = useState<MallItem | 'new'>();
  const items = useQuery({ queryKey: mallKeys.items(archived), queryFn: () => fetchItems(archived) });
  const tierName = (code: string) => tiers.find((x) => x.code === code)?.name ?? code;
  return (
    <div data-testid="mall-items">
      <div className="page-toolbar">
        <Space>
          <Switch checked={archived} onChange={setArchived} data-testid="mall-items-archived" />
          <Typography.Text>{t('mall.items.showArchived')}</Typography.Text>
        </Space>
        {can('settings:manage') && (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')} data-testid="mall-item-new">
            {t('mall.items.new')}
          </Button>
        )}
      </div>
      <Table<MallItem>
        size="small"
        rowKey="id"
        loading={items.isPending}
        pagination={false}
        scroll={{ x: 900 }}
        dataSource={items.data ?? []}
        locale={{ emptyText: items.isError ? errorText(t, items.error) : t('mall.items.none') }}
        columns={[
          {
            title: t('mall.items.name'),
            dataIndex: 'name',
            render: (name: string, i) => (
              <Space>
                {i.picture_url && <img src={i.picture_url} alt="" width={32} height={32} style={{ objectFit: 'cover', borderRadius: 4 }} />}
                <span data-testid={`mall-item-${name}`}>{name}</span>
              </Space>
            ),
          },
          { title: t('mall.items.price'), key: 'price', render: (_, i) => price(i.points, i.cash) },
          {
            title: t('mall.items.stock'),
            dataIndex: 'stock',
            align: 'right',
            render: (s: number, i) => <span data-testid={`mall-item-stock-${i.name}`}>{s}</span>,
          },
          {
            title: t('mall.items.limits'),
            key: 'limits',
            render: (_, i) =>
              [
                i.per_member ? t('mall.items.perMemberShort', { count: i.per_member }) : null,
                i.per_order ? t('mall.items.perOrderShort', { count: i.per_order }) : null,
              ]
                .filter(Boolean)
                .join(' · ') || t('mall.items.noLimit'),
          },
          {
            title: t('mall.items.tiers'),
            dataIndex: 'tiers',
            render: (ts: string[]) =>
              ts.length ? (
                <Space wrap size={4}>
                  {ts.map((c) => (
                    <Tag key={c}>{tierName(c)}</Tag>
                  ))}
                </Space>
              ) : (
                t('mall.items.everyone')
              ),
          },
          {
            title: t('mall.items.window'),
            key: 'window',
            render: (_, i) =>
              !i.available_from && !i.available_until
                ? t('mall.items.always')
                : `${i.available_from ? formatDateTime(i.available_from, i18n.language) : '…'} – ${
                    i.available_until ? formatDateTime(i.available_until, i18n.language) : '…'
                  }`,
          },
          { title: t('mall.items.delivery'), dataIndex: 'delivery', render: (d: string) => t(`mall.delivery.${d}`) },
          {
            title: t('prepaid.archive.column'),
            key: 'actions',
            render: (_, i) => (
              <Space size={4}>
                {can('settings:manage') && (
                  <Button size="small" icon={<EditOutlined />} onClick={() => setEditing(i)} data-testid={`mall-item-edit-${i.name}`}>
                    {t('mall.items.edit')}
                  </Button>
                )}
                <ArchiveToggle
                  name={i.name}
                  archived={i.archived}
                  toggle={(a) => setItemArchived(i.id, a)}
                  queryKey={mallKeys.all}
                  testId={`mall-item-archive-${i.name}`}
                />
              </Space>
            ),
          },
        ]}
      />
      {editing && <ItemModal item={editing === 'new' ? undefined : editing} tiers={tiers} onClose={() => setEditing(undefined)} />}
    </div>
  );
}

interface ItemForm {
  name: string;
  description?: string;
  pictures?: string[];
  picture_upload_id?: string | null;
  points: number;
  cash?: number;
  stock: number;
  per_member?: number | null;
  per_order?: number | null;
  tiers?: string[];
  window?: [Dayjs | null, Dayjs | null] | null;
  delivery: Delivery;
  coupon_template_id?: string | null;
}

type Delivery = 'pickup' | 'shipping' | 'virtual';

const FIELDS = ['name', 'description', 'picture_upload_id', 'pictures', 'points', 'cash', 'stock', 'per_member', 'per_order', 'tiers', 'window', 'delivery', 'coupon_template_id'];

function ItemModal({ item, tiers, onClose }: { item?: MallItem; tiers: { code: string; name: string }[]; onClose: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm<ItemForm>();
  const [error, setError] = useState<string>();
  const save = useMutation({
    mutationFn: (v: ItemForm) => {
      const body: MallItemInput = {
        name: v.name.trim(),
        description: v.description?.trim() || undefined,
        pictures: (v.pictures ?? []).map((p) => p.trim()).filter(Boolean),
        picture_upload_id: v.picture_upload_id || undefined,
        points: v.points,
        cash: toMinor(v.cash),
        stock: v.stock,
        per_member: v.per_member ?? undefined,
        per_order: v.per_order ?? undefined,
        tiers: v.tiers ?? [],
        available_from: v.window?.[0]?.toISOString() ?? undefined,
        available_until: v.window?.[1]?.toISOString() ?? undefined,
        delivery: v.delivery,
        coupon_template_id: v.delivery === 'virtual' ? (v.coupon_template_id ?? undefined) : undefined,
      };
      return item ? updateItem(item.id, body) : createItem(body);
    },
    onSuccess: (i) => {
      void qc.invalidateQueries({ queryKey: mallKeys.all });
      void message.success(t(item ? 'mall.items.saved' : 'mall.items.created', { name: i.name }));
      onClose();
    },
    onError: (err) =>
      setError(applyServerErrors(t, form, err, FIELDS, { available_from: 'window', available_until: 'window' })),
  });
  const required = { required: true, message: t('validation.required') };
  const initial: Partial<ItemForm> = item
    ? {
        name: item.name,
        description: item.description,
        pictures: item.pictures,
        picture_upload_id: item.picture_upload_id ?? undefined,
        points: item.points,
        cash: item.cash / 100,
        stock: item.stock,
        per_member: item.per_member ?? null,
        per_order: item.per_order ?? null,
        tiers: item.tiers,
        window:
          item.available_from || item.available_until
            ? [item.available_from ? dayjs(item.available_from) : null, item.available_until ? dayjs(item.available_until) : null]
            : null,
        delivery: item.delivery as Delivery,
        coupon_template_id: item.coupon_template_id ?? null,
      }
    : { delivery: 'pickup', cash: 0, stock: 10 };
  return (
    <Modal
      open
      title={item ? t('mall.items.editTitle', { name: item.name }) : t('mall.items.new')}
      onCancel={onClose}
      okText={t('common.save')}
      cancelText={t('common.cancel')}
      confirmLoading={save.isPending}
      onOk={() => form.submit()}
      okButtonProps={{ ...({ 'data-testid': 'mall-item-submit' } as Record<`data-${string}`, string>) }}
      width={600}
    >
      {error && (
        <Typography.Paragraph type="danger" role="alert">
          {error}
        </Typography.Paragraph>
      )}
      <Form<ItemForm>
        form={form}
        layout="vertical"
        name="mall-item"
        initialValues={initial}
        onFinish={(v) => {
          setError(undefined);
          save.mutate(v);
        }}
      >
        <Form.Item name="name" label={t('mall.items.name')} rules={[required, { max: 100 }]}>
          <Input maxLength={100} placeholder={t('mall.items.namePlaceholder')} data-testid="mall-item-name" />
        </Form.Item>
        <Form.Item name="description" label={t('mall.items.description')}>
          <Input.TextArea maxLength={2000} rows={2} data-testid="mall-item-description" />
        </Form.Item>
        <Form.Item name="picture_upload_id" label={t('mall.items.picture')}>
          <CoverPicture
            purpose="mall_item"
            testId="mall-item-picture"
            initialUrl={item?.picture_upload_id ? item.picture_url : null}
            texts={{ upload: 'mall.items.uploadPicture', replace: 'mall.items.replacePicture', remove: 'mall.items.removePicture' }}
          />
        </Form.Item>
        <Form.Item name="pictures" label={t('mall.items.pictures')} extra={t('mall.items.picturesHelp')}>
          <Select mode="tags" open={false} tokenSeparators={[' ', ',']} data-testid="mall-item-pictures" />
        </Form.Item>
        <Space wrap align="start">
          <Form.Item name="points" label={t('mall.items.points')} rules={[required]}>
            <InputNumber min={1} max={100000000} precision={0} data-testid="mall-item-points" />
          </Form.Item>
          <Form.Item name="cash" label={t('mall.items.cash')} extra={t('mall.items.cashHelp')}>
            <InputNumber min={0} precision={2} prefix="¥" data-testid="mall-item-cash" />
          </Form.Item>
          <Form.Item name="stock" label={t('mall.items.stock')} rules={[required]}>
            <InputNumber min={0} max={1000000} precision={0} data-testid="mall-item-stock" />
          </Form.Item>
        </Space>
        <Space wrap align="start">
          <Form.Item name="per_member" label={t('mall.items.perMember')} extra={t('mall.items.noLimitHelp')}>
            <InputNumber min={1} max={1000} precision={0} data-testid="mall-item-per-member" />
          </Form.Item>
          <Form.Item name="per_order" label={t('mall.items.perOrder')} extra={t('mall.items.noLimitHelp')}>
            <InputNumber min={1} max={1000} precision={0} data-testid="mall-item-per-order" />
          </Form.Item>
        </Space>
        <Form.Item name="tiers" label={t('mall.items.tiers')} extra={t('mall.items.tiersHelp')}>
          <Select mode="multiple" allowClear options={tiers.map((x) => ({ value: x.code, label: x.name }))} data-testid="mall-item-tiers" />
        </Form.Item>
        <Form.Item name="window" label={t('mall.items.window')} extra={t('mall.items.windowHelp')}>
          <DatePicker.RangePicker showTime allowEmpty={[true, true]} style={{ width: '100%' }} />
        </Form.Item>
        <Form.Item name="delivery" label={t('mall.items.delivery')} rules={[required]}>
          <Select
            data-testid="mall-item-delivery"
            options={['pickup', 'shipping', 'virtual'].map((d) => ({ value: d, label: t(`mall.delivery.${d}`) }))}
          />
        </Form.Item>
        <Form.Item noStyle shouldUpdate={(a, b) => a.delivery !== b.delivery}>
          {({ getFieldValue }) =>
            getFieldValue('delivery') === 'virtual' ? (
              <Form.Item
                name="coupon_template_id"
                label={t('mall.items.couponTemplate')}
                extra={t('mall.items.couponTemplateHelp')}
                rules={[required]}
              >
                <CouponTemplateSelect data-testid="mall-item-coupon-template" />
              </Form.Item>
            ) : null
          }
        </Form.Item>
      </Form>
    </Modal>
  );
}
