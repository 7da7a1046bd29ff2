// 优惠券: the business's coupon templates (what each gives, how many were given and used,
// whether members may claim it), with the form that creates or changes one (a new version:
// coupons already given keep their terms), archiving, and each template's batches of codes.
import { useState } from 'react';
import { App, Button, Result, Space, Switch, Table, Tag, Typography } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { ApiProblem } from '../api/errors';
import { errorText } from '../common/forms';
import { useAuth } from '../auth/AuthContext';
import { couponKeys, fetchTemplates, setTemplateArchived, type CouponTemplate } from './api';
import { BatchesDrawer } from './BatchesDrawer';
import { SegmentDrawer } from './SegmentDrawer';
import { TemplateModal } from './TemplateModal';
import { benefitText } from './terms';
import { useCouponMoney } from './money';

export function CouponsPage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const money = useCouponMoney();
  const [editing, setEditing] = useState<CouponTemplate | 'new' | null>(null);
  const [batchesOf, setBatchesOf] = useState<CouponTemplate | null>(null);
  const [segmentOf, setSegmentOf] = useState<CouponTemplate | null>(null);
  const templates = useQuery({ queryKey: couponKeys.templates(), queryFn: fetchTemplates, retry: false });
  const manage = can('rewards:manage');
  if (templates.error instanceof ApiProblem && templates.error.status === 402) {
    return (
      <Result
        status="info"
        title={t('coupons.gate')}
        subTitle={t('errors.feature_not_in_plan')}
        extra={
          <Link to="/plan">
            <Button>{t('coupons.seePlans')}</Button>
          </Link>
        }
        data-testid="coupons-gate"
      />
    );
  }
  return (
    <div data-testid="coupons-page">
      <Typography.Title level={3}>{t('coupons.title')}</Typography.Title>
      <div className="page-toolbar">
        <Typography.Paragraph type="secondary" style={{ margin: 0 }}>
          {t('coupons.help')}
        </Typography.Paragraph>
        {manage && (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')} data-testid="coupon-template-new">
            {t('coupons.new')}
          </Button>
        )}
      </div>
      <Table<CouponTemplate>
        size="small"
        rowKey="id"
        loading={templates.isPending}
        pagination={false}
        scroll={{ x: 900 }}
        dataSource={templates.data ?? []}
        locale={{ emptyText: templates.isError ? errorText(t, templates.error) : t('coupons.none') }}
        columns={[
          {
            title: t('coupons.name'),
            dataIndex: 'name',
            render: (name: string, r) => (
              <Space direction="vertical" size={0}>
                <Typography.Text strong>{name}</Typography.Text>
                <Typography.Text type="secondary">{t('coupons.version', { version: r.version })}</Typography.Text>
              </Space>
            ),
          },
          {
            title: t('coupons.gives'),
            key: 'gives',
            render: (_, r) => (
              <Space direction="vertical" size={0}>
                <span>{benefitText(t, money, r.terms)}</span>
                <Typography.Text type="secondary">
                  {r.terms.valid_days
                    ? t('coupons.validDays', { count: r.terms.valid_days })
                    : t('coupons.validWindow', {
                        from: r.terms.valid_from?.slice(0, 10) ?? '',
                        until: r.terms.valid_until?.slice(0, 10) ?? '',
                      })}
                </Typography.Text>
              </Space>
            ),
          },
          {
            title: t('coupons.issuedUsed'),
            key: 'counts',
            align: 'right',
            render: (_, r) => (
              <span data-testid={`coupon-template-counts-${r.name}`}>
                {r.total ? t('coupons.issuedOf', { issued: r.issued, total: r.total }) : r.issued} / {r.used}
              </span>
            ),
          },
          {
            title: t('coupons.claim'),
            key: 'claim',
            render: (_, r) =>
              r.claimable ? (
                <Tag color="blue">{r.points_price > 0 ? t('coupons.forPoints', { points: r.points_price }) : t('coupons.free')}</Tag>
              ) : (
                <Typography.Text type="secondary">{t('coupons.staffOnly')}</Typography.Text>
              ),
          },
          {
            title: t('coupons.archived'),
            key: 'archived',
            render: (_, r) => <ArchiveSwitch template={r} disabled={!manage} />,
          },
          {
            title: '',
            key: 'actions',
            render: (_, r) => (
              <Space wrap>
                <Button size="small" onClick={() => setBatchesOf(r)} data-testid={`coupon-batches-${r.name}`}>
                  {t('coupons.batches.open')}
                </Button>
                {manage && !r.archived && (
                  <Button size="small" onClick={() => setSegmentOf(r)} data-testid={`coupon-segment-${r.name}`}>
                    {t('coupons.segment.open')}
                  </Button>
                )}
                {manage && (
                  <Button size="small" onClick={() => setEditing(r)} data-testid={`coupon-template-edit-${r.name}`}>
                    {t('coupons.edit')}
                  </Button>
                )}
              </Space>
            ),
          },
        ]}
      />
      {editing && <TemplateModal template={editing === 'new' ? undefined : editing} onClose={() => setEditing(null)} />}
      {batchesOf && <BatchesDrawer template={batchesOf} onClose={() => setBatchesOf(null)} />}
      {segmentOf && <SegmentDrawer template={segmentOf} onClose={() => setSegmentOf(null)} />}
    </div>
  );
}

function ArchiveSwitch({ template, disabled }: { template: CouponTemplate; disabled: boolean }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const m = useMutation({
    mutationFn: (archived: boolean) => setTemplateArchived(template.id, archived),
    onSuccess: () => void qc.invalidateQueries({ queryKey: couponKeys.templates() }),
    onError: (err) => void message.error(errorText(t, err)),
  });
  return (
    <Switch
      size="small"
      checked={template.archived}
      disabled={disabled}
      loading={m.isPending}
      onChange={(v) => m.mutate(v)}
      aria-label={t('coupons.archiveLabel', { name: template.name })}
      data-testid={`coupon-template-archive-${template.name}`}
    />
  );
}
