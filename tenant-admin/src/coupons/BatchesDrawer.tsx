// A template's batches of codes: the batches generated so far (how many of each were used),
// the form that generates one from a pattern, and each batch's codes as a CSV file.
import { useState } from 'react';
import { App, Button, Drawer, Form, Input, InputNumber, Table, Typography } from 'antd';
import { DownloadOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { applyServerErrors, errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { saveBlob } from '../common/download';
import { useAuth } from '../auth/AuthContext';
import { codesCsv, couponKeys, createBatch, fetchBatchCodes, fetchBatches, type CouponBatch, type CouponTemplate } from './api';

interface BatchForm {
  count: number;
  pattern: string;
  prefix?: string;
}

export function BatchesDrawer({ template, onClose }: { template: CouponTemplate; onClose: () => void }) {
  const { t, i18n } = useTranslation();
  const { can, me } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm<BatchForm>();
  const [error, setError] = useState<string>();
  const batches = useQuery({ queryKey: couponKeys.batches(template.id), queryFn: () => fetchBatches(template.id) });
  const generate = useMutation({
    mutationFn: (v: BatchForm) =>
      createBatch(template.id, {
        count: v.count,
        pattern: v.pattern.trim(),
        prefix: v.prefix?.trim() || undefined,
        idempotency_key: crypto.randomUUID(),
      }),
    onSuccess: (b) => {
      void qc.invalidateQueries({ queryKey: couponKeys.batches(template.id) });
      void qc.invalidateQueries({ queryKey: couponKeys.templates() });
      void message.success(t('coupons.batches.created', { count: b.count }));
      form.resetFields();
    },
    onError: (err) => setError(applyServerErrors(t, form, err, ['count', 'pattern', 'prefix'])),
  });
  const exportCodes = useMutation({
    mutationFn: (b: CouponBatch) => fetchBatchCodes(template.id, b.id),
    onSuccess: (codes, b) => {
      const csv = codesCsv(codes, [t('coupons.batches.csvCode'), t('coupons.batches.csvStatus'), t('coupons.batches.csvUntil')]);
      saveBlob(new Blob([csv], { type: 'text/csv;charset=utf-8' }), `${template.name}-${b.created_at.slice(0, 10)}.csv`);
    },
    onError: (err) => void message.error(errorText(t, err)),
  });
  return (
    <Drawer open width={640} title={t('coupons.batches.title', { name: template.name })} onClose={onClose} data-testid="coupon-batches">
      {can('rewards:manage') && (
        <Form<BatchForm>
          form={form}
          layout="inline"
          initialValues={{ count: 100, pattern: 'VIP-####-????' }}
          onFinish={(v) => {
            setError(undefined);
            generate.mutate(v);
          }}
          style={{ marginBottom: 16, rowGap: 8 }}
        >
          <Form.Item name="count" label={t('coupons.batches.count')} rules={[{ required: true, message: t('validation.required') }]}>
            <InputNumber min={1} max={10000} precision={0} data-testid="coupon-batch-count" />
          </Form.Item>
          <Form.Item name="pattern" label={t('coupons.batches.pattern')} rules={[{ required: true, message: t('validation.required') }]}>
            <Input style={{ width: 160 }} data-testid="coupon-batch-pattern" />
          </Form.Item>
          <Form.Item name="prefix" label={t('coupons.batches.prefix')}>
            <Input style={{ width: 100 }} />
          </Form.Item>
          <Button type="primary" htmlType="submit" loading={generate.isPending} data-testid="coupon-batch-submit">
            {t('coupons.batches.generate')}
          </Button>
        </Form>
      )}
      <Typography.Paragraph type="secondary">{t('coupons.batches.help')}</Typography.Paragraph>
      {error && (
        <Typography.Paragraph type="danger" role="alert" data-testid="coupon-batch-error">
          {error}
        </Typography.Paragraph>
      )}
      <Table<CouponBatch>
        size="small"
        rowKey="id"
        pagination={false}
        loading={batches.isPending}
        dataSource={batches.data ?? []}
        locale={{ emptyText: batches.isError ? errorText(t, batches.error) : t('coupons.batches.none') }}
        columns={[
          { title: t('coupons.batches.pattern'), dataIndex: 'pattern' },
          { title: t('coupons.batches.count'), dataIndex: 'count', align: 'right' },
          { title: t('coupons.batches.used'), dataIndex: 'used', align: 'right' },
          {
            title: t('coupons.batches.at'),
            dataIndex: 'created_at',
            render: (v: string) => formatDateTime(v, i18n.language, me?.tenant.time_zone),
          },
          {
            title: '',
            key: 'export',
            render: (_, b) => (
              <Button
                size="small"
                icon={<DownloadOutlined />}
                loading={exportCodes.isPending && exportCodes.variables?.id === b.id}
                onClick={() => exportCodes.mutate(b)}
                data-testid="coupon-batch-export"
              >
                {t('coupons.batches.export')}
              </Button>
            ),
          },
        ]}
      />
    </Drawer>
  );
}
