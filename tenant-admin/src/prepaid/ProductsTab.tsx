// 次卡产品: the business's visit pass products (visits, validity, the services they cover,
// price) and the form that creates one.
import { useState } from 'react';
import { App, Button, Form, Input, InputNumber, Modal, Select, Space, Table, Tag, Typography } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { applyServerErrors, errorText } from '../common/forms';
import { useAuth } from '../auth/AuthContext';
import { createProduct, fetchProducts, prepaidKeys, setProductArchived, type PassProduct } from './api';
import { toMinor } from './money';
import { ArchiveToggle, missingFeature, PlanMissing, useMoney } from './parts';

export function ProductsTab() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const money = useMoney();
  const [creating, setCreating] = useState(false);
  const products = useQuery({ queryKey: prepaidKeys.products(), queryFn: fetchProducts, retry: false });
  if (missingFeature(products.error)) return <PlanMissing feature="visit_passes" />;
  return (
    <div data-testid="prepaid-products">
      <div className="page-toolbar">
        <Typography.Paragraph type="secondary" style={{ margin: 0 }}>
          {t('prepaid.products.help')}
        </Typography.Paragraph>
        {can('settings:manage') && (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)} data-testid="prepaid-product-new">
            {t('prepaid.products.new')}
          </Button>
        )}
      </div>
      <Table<PassProduct>
        size="small"
        rowKey="id"
        loading={products.isPending}
        pagination={false}
        scroll={{ x: 640 }}
        dataSource={products.data ?? []}
        locale={{ emptyText: products.isError ? errorText(t, products.error) : t('prepaid.products.none') }}
        columns={[
          { title: t('prepaid.products.name'), dataIndex: 'name' },
          { title: t('prepaid.products.visits'), dataIndex: 'visits', align: 'right' },
          {
            title: t('prepaid.products.validity'),
            dataIndex: 'validity_days',
            render: (v?: number | null) => (v ? t('prepaid.period.days', { count: v }) : t('prepaid.member.never')),
          },
          {
            title: t('prepaid.products.categories'),
            dataIndex: 'categories',
            render: (cs: string[]) =>
              cs.length ? (
                <Space wrap size={4}>
                  {cs.map((c) => (
                    <Tag key={c}>{c}</Tag>
                  ))}
                </Space>
              ) : (
                t('prepaid.products.anyService')
              ),
          },
          { title: t('prepaid.plans.price'), dataIndex: 'price', render: (v: number) => money(v), align: 'right' },
          {
            title: t('prepaid.archive.column'),
            key: 'archived',
            render: (_, p) => (
              <ArchiveToggle
                name={p.name}
                archived={p.archived}
                toggle={(a) => setProductArchived(p.id, a)}
                queryKey={prepaidKeys.products()}
                testId={`prepaid-product-archive-${p.name}`}
              />
            ),
          },
        ]}
      />
      {creating && <NewProductModal onClose={() => setCreating(false)} />}
    </div>
  );
}

interface ProductForm {
  name: string;
  visits: number;
  validity_days?: number;
  categories?: string[];
  price: number;
}

function NewProductModal({ onClose }: { onClose: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm<ProductForm>();
  const [error, setError] = useState<string>();
  const save = useMutation({
    mutationFn: (v: ProductForm) =>
      createProduct({
        name: v.name.trim(),
        visits: v.visits,
        validity_days: v.validity_days ?? undefined,
        categories: (v.categories ?? []).map((c) => c.trim()).filter(Boolean),
        price: toMinor(v.price),
      }),
    onSuccess: (p) => {
      void qc.invalidateQueries({ queryKey: prepaidKeys.products() });
      void message.success(t('prepaid.products.created', { name: p.name }));
      onClose();
    },
    onError: (err) => setError(applyServerErrors(t, form, err, ['name', 'visits', 'validity_days', 'categories', 'price'])),
  });
  const required = { required: true, message: t('validation.required') };
  return (
    <Modal
      open
      title={t('prepaid.products.new')}
      onCancel={onClose}
      okText={t('prepaid.products.create')}
      cancelText={t('common.cancel')}
      confirmLoading={save.isPending}
      onOk={() => form.submit()}
      okButtonProps={{ ...({ 'data-testid': 'prepaid-product-submit' } as Record<`data-${string}`, string>) }}
    >
      {error && (
        <Typography.Paragraph type="danger" role="alert">
          {error}
        </Typography.Paragraph>
      )}
      <Form<ProductForm>
        form={form}
        layout="vertical"
        name="pass-product"
        onFinish={(v) => {
          setError(undefined);
          save.mutate(v);
        }}
      >
        <Form.Item name="name" label={t('prepaid.products.name')} rules={[required, { max: 100 }]}>
          <Input maxLength={100} placeholder={t('prepaid.products.namePlaceholder')} data-testid="prepaid-product-name" />
        </Form.Item>
        <Form.Item name="visits" label={t('prepaid.products.visits')} rules={[required]}>
          <InputNumber min={1} max={10000} precision={0} style={{ width: '100%' }} data-testid="prepaid-product-visits" />
        </Form.Item>
        <Form.Item name="validity_days" label={t('prepaid.products.validityDays')} extra={t('prepaid.products.validityHelp')}>
          <InputNumber min={1} max={3660} precision={0} style={{ width: '100%' }} data-testid="prepaid-product-validity" />
        </Form.Item>
        <Form.Item name="categories" label={t('prepaid.products.categories')} extra={t('prepaid.products.categoriesHelp')}>
          <Select mode="tags" open={false} tokenSeparators={[',', '，']} />
        </Form.Item>
        <Form.Item name="price" label={t('prepaid.plans.priceYuan')} rules={[required]}>
          <InputNumber min={0} precision={2} prefix="¥" style={{ width: '100%' }} data-testid="prepaid-product-price" />
        </Form.Item>
      </Form>
    </Modal>
  );
}
