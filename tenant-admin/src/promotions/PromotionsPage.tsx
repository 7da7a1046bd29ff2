// 优惠活动: the promotions, each with its days (the business's time zone), audience, what it
// gives, its phase and the members it reached; a filter by phase; the form that creates or
// edits a draft; publishing, stopping and deleting. A promotion's results open on its page.
import { useState } from 'react';
import { App, Button, Popconfirm, Segmented, Space, Table, Tag, Typography } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { errorText } from '../common/forms';
import { useAuth } from '../auth/AuthContext';
import {
  deletePromotion,
  fetchPromotions,
  PHASES,
  promotionKeys,
  publishPromotion,
  stopPromotion,
  type Phase,
  type Promotion,
} from './api';
import { givesText, missingFeature, periodText, PhaseTag, PromotionsPlanMissing } from './parts';
import { PromotionModal, useTierNames } from './PromotionModal';

export function PromotionsPage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const tiers = useTierNames();
  const [phase, setPhase] = useState<Phase | 'all'>('all');
  const [editing, setEditing] = useState<Promotion | 'new'>();
  const list = useQuery({
    queryKey: promotionKeys.list(phase === 'all' ? undefined : phase),
    queryFn: () => fetchPromotions(phase === 'all' ? undefined : phase),
    retry: false,
  });
  const act = useMutation({
    mutationFn: ({ p, action }: { p: Promotion; action: 'publish' | 'stop' | 'delete' }) =>
      action === 'publish' ? publishPromotion(p.id) : action === 'stop' ? stopPromotion(p.id) : deletePromotion(p.id),
    onSuccess: (_, { p, action }) => {
      void qc.invalidateQueries({ queryKey: promotionKeys.all });
      void message.success(t(`promotions.done.${action}`, { name: p.name }));
    },
    onError: (err) => void message.error(errorText(t, err)),
  });
  const manage = can('rewards:manage');
  const tierName = (code: string) => tiers.find((x) => x.code === code)?.name ?? code;
  if (missingFeature(list.error)) {
    return (
      <div data-testid="promotions-page">
        <Typography.Title level={3}>{t('promotions.title')}</Typography.Title>
        <PromotionsPlanMissing />
      </div>
    );
  }
  return (
    <div data-testid="promotions-page">
      <Typography.Title level={3}>{t('promotions.title')}</Typography.Title>
      <Typography.Paragraph type="secondary">{t('promotions.intro')}</Typography.Paragraph>
      <div className="page-toolbar">
        <Segmented
          value={phase}
          onChange={(v) => setPhase(v as Phase | 'all')}
          options={[
            { value: 'all', label: t('promotions.phase.all') },
            ...PHASES.map((p) => ({ value: p, label: t(`promotions.phase.${p}`) })),
          ]}
          data-testid="promotions-phase"
        />
        {manage && (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')} data-testid="promotion-new">
            {t('promotions.new')}
          </Button>
        )}
      </div>
      <Table<Promotion>
        size="small"
        rowKey="id"
        loading={list.isPending}
        pagination={false}
        scroll={{ x: 960 }}
        dataSource={list.data ?? []}
        locale={{ emptyText: list.isError ? errorText(t, list.error) : t('promotions.none') }}
        columns={[
          {
            title: t('promotions.name'),
            dataIndex: 'name',
            render: (name: string, p) => (
              <Link to={`/promotions/${p.id}`} data-testid={`promotion-${name}`}>
                {name}
              </Link>
            ),
          },
          { title: t('promotions.period'), key: 'period', render: (_, p) => periodText(p) },
          {
            title: t('promotions.audience'),
            dataIndex: 'tiers',
            render: (ts: string[]) =>
              ts.length ? (
                <Space wrap size={4}>
                  {ts.map((c) => (
                    <Tag key={c}>{tierName(c)}</Tag>
                  ))}
                </Space>
              ) : (
                t('promotions.everyone')
              ),
          },
          { title: t('promotions.gives.title'), key: 'gives', render: (_, p) => givesText(t, p).join(' · ') },
          { title: t('promotions.phase.title'), dataIndex: 'phase', render: (ph: string) => <PhaseTag phase={ph} /> },
          {
            title: t('promotions.results.members'),
            key: 'reached',
            align: 'right',
            render: (_, p) => <span data-testid={`promotion-reached-${p.name}`}>{p.results?.members ?? 0}</span>,
          },
          {
            title: t('promotions.actions'),
            key: 'actions',
            render: (_, p) => (
              <Space size={4} wrap>
                <Link to={`/promotions/${p.id}`}>
                  <Button size="small">{t('promotions.results.open')}</Button>
                </Link>
                {manage && p.phase === 'draft' && (
                  <>
                    <Button size="small" onClick={() => setEditing(p)} data-testid={`promotion-edit-${p.name}`}>
                      {t('promotions.edit')}
                    </Button>
                    <Popconfirm
                      title={t('promotions.confirm.publish', { name: p.name })}
                      okText={t('promotions.publish')}
                      cancelText={t('common.cancel')}
                      onConfirm={() => act.mutate({ p, action: 'publish' })}
                    >
                      <Button size="small" type="primary" data-testid={`promotion-publish-${p.name}`}>
                        {t('promotions.publish')}
                      </Button>
                    </Popconfirm>
                    <Popconfirm
                      title={t('promotions.confirm.delete', { name: p.name })}
                      okText={t('promotions.delete')}
                      cancelText={t('common.cancel')}
                      onConfirm={() => act.mutate({ p, action: 'delete' })}
                    >
                      <Button size="small" danger>
                        {t('promotions.delete')}
                      </Button>
                    </Popconfirm>
                  </>
                )}
                {manage && (p.phase === 'scheduled' || p.phase === 'running') && (
                  <Popconfirm
                    title={t('promotions.confirm.stop', { name: p.name })}
                    okText={t('promotions.stop')}
                    cancelText={t('common.cancel')}
                    onConfirm={() => act.mutate({ p, action: 'stop' })}
                  >
                    <Button size="small" danger data-testid={`promotion-stop-${p.name}`}>
                      {t('promotions.stop')}
                    </Button>
                  </Popconfirm>
                )}
              </Space>
            ),
          },
        ]}
      />
      {editing && (
        <PromotionModal promotion={editing === 'new' ? undefined : editing} tiers={tiers} onClose={() => setEditing(undefined)} />
      )}
    </div>
  );
}
