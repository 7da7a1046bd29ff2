// 活动: the business's activities, soonest first, with their seats and state, as a list or on
// a calendar; the filter by state and the view kept in the address; a new activity opens the
// form.
import { useState } from 'react';
import { Button, Segmented, Table, Tag, Typography } from 'antd';
import { PlusOutlined } from '@ant-design/icons';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { useAuth } from '../auth/AuthContext';
import { errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { missingFeature } from '../prepaid/parts';
import { ActivitiesCalendar } from './ActivitiesCalendar';
import { ActivityFormModal } from './ActivityForm';
import { activityKeys, fetchActivities, STATUSES, type Activity } from './api';
import { ActivitiesGate, StatusTag } from './parts';
import { priceText } from './price';

export function ActivitiesPage() {
  const { t, i18n } = useTranslation();
  const { me, can } = useAuth();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const [creating, setCreating] = useState(false);
  const status = STATUSES.find((s) => s === params.get('status'));
  const view = params.get('view') === 'calendar' ? 'calendar' : 'list';
  const setParam = (key: string, value: string | undefined) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };
  const list = useQuery({
    queryKey: activityKeys.list(status),
    queryFn: () => fetchActivities(status),
    retry: false,
  });
  const zone = me?.tenant.time_zone;
  if (missingFeature(list.error)) return <ActivitiesGate />;
  return (
    <div data-testid="activities-page">
      <Typography.Title level={3}>{t('activities.title')}</Typography.Title>
      <div className="page-toolbar">
        <Segmented
          value={status ?? 'all'}
          onChange={(v) => setParam('status', v === 'all' ? undefined : String(v))}
          options={[
            { value: 'all', label: t('activities.filter.all') },
            ...STATUSES.map((s) => ({ value: s, label: t(`activities.status.${s}`) })),
          ]}
          data-testid="activities-filter"
        />
        <Segmented
          value={view}
          onChange={(v) => setParam('view', v === 'calendar' ? 'calendar' : undefined)}
          options={[
            { value: 'list', label: t('activities.calendar.list') },
            { value: 'calendar', label: t('activities.calendar.calendar') },
          ]}
          data-testid="activities-view"
        />
        {can('members:write') && (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)} data-testid="activity-new">
            {t('activities.new')}
          </Button>
        )}
      </div>
      {view === 'calendar' ? (
        <ActivitiesCalendar activities={list.data ?? []} zone={zone ?? 'Asia/Shanghai'} />
      ) : (
      <Table<Activity>
        size="small"
        rowKey="id"
        loading={list.isPending}
        pagination={{ pageSize: 20, showTotal: (n) => t('activities.total', { count: n }) }}
        scroll={{ x: 720 }}
        dataSource={list.data ?? []}
        locale={{ emptyText: list.isError ? errorText(t, list.error) : t('activities.none') }}
        onRow={(a) => ({ onClick: () => void navigate(`/activities/${a.id}`), style: { cursor: 'pointer' } })}
        columns={[
          {
            title: t('activities.field.title'),
            dataIndex: 'title',
            render: (v: string, a) => (
              <Link to={`/activities/${a.id}`} data-testid={`activity-row-${v}`} onClick={(e) => e.stopPropagation()}>
                {v}
              </Link>
            ),
          },
          {
            title: t('activities.field.starts_at'),
            dataIndex: 'starts_at',
            sorter: (a, b) => a.starts_at.localeCompare(b.starts_at),
            render: (v: string) => formatDateTime(v, i18n.language, zone),
          },
          { title: t('activities.field.place'), dataIndex: 'place', responsive: ['md'] },
          {
            title: t('activities.seats'),
            key: 'seats',
            align: 'right',
            render: (_, a) => `${a.taken} / ${a.capacity}`,
          },
          {
            title: t('activities.price.label'),
            key: 'price',
            align: 'right',
            responsive: ['md'],
            render: (_, a) =>
              a.price_kind === 'free' || (!a.price_kind && a.price_points <= 0) ? (
                <Tag>{t('activities.free')}</Tag>
              ) : (
                priceText(t, a)
              ),
          },
          {
            title: t('activities.field.status'),
            dataIndex: 'status',
            render: (s: string) => <StatusTag status={s} />,
          },
        ]}
      />
      )}
      {creating && (
        <ActivityFormModal
          onClose={() => setCreating(false)}
          onSaved={(a) => {
            setCreating(false);
            void navigate(`/activities/${a.id}`);
          }}
        />
      )}
    </div>
  );
}
