// One activity: its details and state (publish, close, finish, cancel), then a tab each for
// the sign-ups (seat holders, offers, approvals, the line in order; add, approve, reject,
// move, cancel), check-in by a typed or scanned code, the statistics and the ratings.
import { lazy, Suspense, useState } from 'react';
import {
  Alert,
  App,
  AutoComplete,
  Button,
  Descriptions,
  Empty,
  Input,
  Modal,
  Popconfirm,
  Rate,
  Space,
  Spin,
  Statistic,
  Switch,
  Table,
  Tabs,
  Typography,
} from 'antd';
import { CameraOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useParams, useSearchParams } from 'react-router';
import { ApiProblem } from '../api/errors';
import { useAuth } from '../auth/AuthContext';
import { errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { deskLookup } from '../desk/api';
import { missingFeature, useMoney } from '../prepaid/parts';
import { ActivityFormModal } from './ActivityForm';
import { GuestsTab } from './Guests';
import { PhotosTab } from './Pictures';
import { segmentParts } from './segment';
import {
  activityKeys,
  addRegistration,
  approveRegistration,
  cancelRegistration,
  checkIn,
  fetchActivity,
  fetchRatings,
  fetchRegistrations,
  fetchStatistics,
  moveRegistration,
  NEXT,
  rejectRegistration,
  setActivityStatus,
  setRatingHidden,
  type Activity,
  type Rating,
  type Registration,
} from './api';
import { ActivitiesGate, StatusTag } from './parts';
import { yuan } from '../prepaid/money';
import { priceText } from './price';

// The camera scanner (and the QR reader it may load) comes only when staff open it.
const ScanModal = lazy(() => import('./ScanModal'));

const TABS = ['registrations', 'guests', 'check-in', 'statistics', 'ratings', 'photos'] as const;

export function ActivityPage() {
  const { id = '' } = useParams();
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const activity = useQuery({ queryKey: activityKeys.detail(id), queryFn: () => fetchActivity(id), retry: false });
  if (missingFeature(activity.error)) return <ActivitiesGate />;
  if (activity.isPending) return <Spin style={{ display: 'block', margin: 48 }} />;
  if (activity.isError) return <Alert type="error" showIcon message={errorText(t, activity.error)} />;
  const a = activity.data;
  const tab = TABS.find((k) => k === params.get('tab')) ?? 'registrations';
  const body = {
    registrations: <RegistrationsTab activity={a} />,
    guests: <GuestsTab activity={a} />,
    'check-in': <CheckInTab activity={a} />,
    statistics: <StatisticsTab activity={a} />,
    ratings: <RatingsTab activity={a} />,
    photos: <PhotosTab activity={a} />,
  };
  return (
    <div data-testid="activity-page">
      <Header activity={a} />
      <Tabs
        activeKey={tab}
        onChange={(k) => setParams(k === 'registrations' ? {} : { tab: k }, { replace: true })}
        destroyInactiveTabPane
        items={TABS.map((k) => ({
          key: k,
          label: <span data-testid={`activity-tab-${k}`}>{t(`activities.tabs.${k}`)}</span>,
          children: body[k],
        }))}
      />
    </div>
  );
}

function Header({ activity: a }: { activity: Activity }) {
  const { t, i18n } = useTranslation();
  const { me, can } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const money = useMoney();
  const [editing, setEditing] = useState(false);
  const zone = me?.tenant.time_zone;
  const move = useMutation({
    mutationFn: (status: (typeof NEXT)[string][number]) => setActivityStatus(a.id, status),
    onSuccess: (x) => {
      void qc.invalidateQueries({ queryKey: activityKeys.all });
      void message.success(t('activities.statusChanged', { status: t(`activities.status.${x.status}`) }));
    },
    onError: (err) => void message.error(errorText(t, err)),
  });
  const at = (v?: string | null) => (v ? formatDateTime(v, i18n.language, zone) : '—');
  return (
    <>
      <div className="page-toolbar">
        <Space wrap align="center">
          <Typography.Title level={3} style={{ margin: 0 }} data-testid="activity-title-heading">
            {a.title}
          </Typography.Title>
          <StatusTag status={a.status} />
        </Space>
        {can('members:write') && (
          <Space wrap>
            {(NEXT[a.status] ?? []).map((s) =>
              s === 'cancelled' ? (
                <Popconfirm
                  key={s}
                  title={t('activities.cancelConfirm')}
                  okText={t('activities.action.cancelled')}
                  cancelText={t('common.cancel')}
                  onConfirm={() => move.mutate(s)}
                >
                  <Button danger data-testid="activity-to-cancelled">
                    {t('activities.action.cancelled')}
                  </Button>
                </Popconfirm>
              ) : (
                <Button key={s} loading={move.isPending} onClick={() => move.mutate(s)} data-testid={`activity-to-${s}`}>
                  {t(`activities.action.${s}`)}
                </Button>
              ),
            )}
            {!['finished', 'cancelled'].includes(a.status) && (
              <Button onClick={() => setEditing(true)} data-testid="activity-edit">
                {t('activities.form.edit')}
              </Button>
            )}
          </Space>
        )}
      </div>
      <Descriptions size="small" column={{ xs: 1, sm: 2, lg: 3 }} style={{ marginBottom: 16 }}>
        <Descriptions.Item label={t('activities.field.starts_at')}>{at(a.starts_at)}</Descriptions.Item>
        <Descriptions.Item label={t('activities.field.ends_at')}>{at(a.ends_at)}</Descriptions.Item>
        <Descriptions.Item label={t('activities.field.place')}>{a.place || '—'}</Descriptions.Item>
        <Descriptions.Item label={t('activities.seats')}>
          <span data-testid="activity-seats">
            {a.taken} / {a.capacity}
          </span>
        </Descriptions.Item>
        <Descriptions.Item label={t('activities.price.label')}>
          <span data-testid="activity-price-text">{priceText(t, a)}</span>
        </Descriptions.Item>
        <Descriptions.Item label={t('activities.field.attend_points')}>
          {t('activities.points', { count: a.attend_points })}
        </Descriptions.Item>
        <Descriptions.Item label={t('activities.field.organisers')}>
          {a.organisers.map((o) => o.name).join('、') || '—'}
        </Descriptions.Item>
        <Descriptions.Item label={t('activities.field.tiers')}>
          {a.tiers.length ? a.tiers.join(', ') : t('activities.everyone')}
        </Descriptions.Item>
        {a.segment && (
          <Descriptions.Item label={t('activities.field.segment')}>
            <span data-testid="activity-segment">
              {segmentParts(a.segment)
                .map(([k, v]) => `${t(`activities.segment.${k}`)} ${v}`)
                .join('；') || t('activities.segment.other')}
            </span>
          </Descriptions.Item>
        )}
        <Descriptions.Item label={t('activities.field.approval')}>{t(`activities.approval.${a.approval}`)}</Descriptions.Item>
        <Descriptions.Item label={t('activities.window')}>
          {at(a.signup_opens_at)} – {at(a.signup_closes_at)}
        </Descriptions.Item>
        <Descriptions.Item label={t('activities.field.cancel_until')}>{at(a.cancel_until)}</Descriptions.Item>
        <Descriptions.Item label={t('activities.field.budget')}>
          {a.budget === null || a.budget === undefined ? '—' : money(a.budget)}
        </Descriptions.Item>
      </Descriptions>
      {a.description && <Typography.Paragraph style={{ whiteSpace: 'pre-wrap' }}>{a.description}</Typography.Paragraph>}
      {editing && <ActivityFormModal activity={a} onClose={() => setEditing(false)} onSaved={() => setEditing(false)} />}
    </>
  );
}

function RegistrationsTab({ activity: a }: { activity: Activity }) {
  const { t, i18n } = useTranslation();
  const { me, can } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [rejecting, setRejecting] = useState<Registration>();
  const regs = useQuery({ queryKey: activityKeys.registrations(a.id), queryFn: () => fetchRegistrations(a.id) });
  const done = () => void qc.invalidateQueries({ queryKey: activityKeys.one(a.id) });
  const act = useMutation({
    mutationFn: ({ r, action }: { r: Registration; action: 'approve' | 'seat' | 'waitlist' | 'cancel' }) =>
      action === 'approve'
        ? approveRegistration(a.id, r.id)
        : action === 'cancel'
          ? cancelRegistration(a.id, r.id)
          : moveRegistration(a.id, r.id, action),
    onSuccess: (r) => {
      done();
      void message.success(
        t('activities.registration.now', { name: r.member_name, status: t(`activities.registration.status.${r.status}`) }),
      );
    },
    onError: (err) => void message.error(errorText(t, err)),
  });
  const writes = can('members:write') && !['finished', 'cancelled'].includes(a.status);
  const zone = me?.tenant.time_zone;
  return (
    <div data-testid="activity-registrations">
      {writes && <AddMember activity={a} onAdded={done} />}
      <Table<Registration>
        size="small"
        rowKey="id"
        loading={regs.isPending}
        scroll={{ x: 760 }}
        pagination={{ pageSize: 50, showTotal: (n) => t('activities.registration.total', { count: n }) }}
        dataSource={regs.data ?? []}
        locale={{ emptyText: regs.isError ? errorText(t, regs.error) : t('activities.registration.none') }}
        columns={[
          {
            title: t('activities.registration.member'),
            dataIndex: 'member_name',
            render: (v: string) => <span data-testid={`registration-${v}`}>{v}</span>,
          },
          {
            title: t('activities.registration.state'),
            dataIndex: 'status',
            render: (s: string, r) => (
              <Space size={4}>
                <StatusTag status={s} registration />
                {r.position ? t('activities.registration.position', { n: r.position }) : null}
              </Space>
            ),
          },
          {
            title: t('activities.registration.detail'),
            key: 'detail',
            responsive: ['md'],
            render: (_, r) =>
              r.checked_in_at
                ? t('activities.registration.checkedIn', {
                    at: formatDateTime(r.checked_in_at, i18n.language, zone),
                    by: r.checked_in_by_name ?? '—',
                  })
                : r.offer_expires_at
                  ? t('activities.registration.offerUntil', { at: formatDateTime(r.offer_expires_at, i18n.language, zone) })
                  : (r.reason ?? ''),
          },
          {
            title: t('activities.registration.paid'),
            key: 'paid',
            align: 'right',
            responsive: ['md'],
            render: (_, r) => {
              const paid = r.points_paid
                ? t('activities.points', { count: r.points_paid })
                : r.fen_paid
                  ? t('activities.price.storedValue', { amount: yuan(r.fen_paid) })
                  : r.pass_id
                    ? t('activities.price.pass', { product: a.pass_product_name ?? '' })
                    : '';
              if (!paid) return '—';
              return r.refunded_at ? `${paid} (${t('activities.registration.refunded')})` : paid;
            },
          },
          {
            title: t('activities.registration.actions'),
            key: 'actions',
            render: (_, r) =>
              writes && (
                <Space size={4} wrap>
                  {r.status === 'pending' && (
                    <Button size="small" type="primary" onClick={() => act.mutate({ r, action: 'approve' })} data-testid={`approve-${r.member_name}`}>
                      {t('activities.registration.approve')}
                    </Button>
                  )}
                  {['pending', 'waitlisted', 'offered'].includes(r.status) && (
                    <Button size="small" onClick={() => act.mutate({ r, action: 'seat' })} data-testid={`seat-${r.member_name}`}>
                      {t('activities.registration.seat')}
                    </Button>
                  )}
                  {['confirmed', 'offered'].includes(r.status) && !r.checked_in_at && (
                    <Button size="small" onClick={() => act.mutate({ r, action: 'waitlist' })} data-testid={`waitlist-${r.member_name}`}>
                      {t('activities.registration.toLine')}
                    </Button>
                  )}
                  {['pending', 'waitlisted'].includes(r.status) && (
                    <Button size="small" danger onClick={() => setRejecting(r)} data-testid={`reject-${r.member_name}`}>
                      {t('activities.registration.reject')}
                    </Button>
                  )}
                  {['pending', 'confirmed', 'waitlisted', 'offered'].includes(r.status) && !r.checked_in_at && (
                    <Popconfirm
                      title={t('activities.registration.cancelConfirm', { name: r.member_name })}
                      okText={t('activities.registration.cancel')}
                      cancelText={t('common.cancel')}
                      onConfirm={() => act.mutate({ r, action: 'cancel' })}
                    >
                      <Button size="small" data-testid={`cancel-${r.member_name}`}>
                        {t('activities.registration.cancel')}
                      </Button>
                    </Popconfirm>
                  )}
                </Space>
              ),
          },
        ]}
      />
      {rejecting && <RejectModal activity={a} registration={rejecting} onClose={() => setRejecting(undefined)} onDone={done} />}
    </div>
  );
}

function AddMember({ activity: a, onAdded }: { activity: Activity; onAdded: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [q, setQ] = useState('');
  const found = useQuery({
    queryKey: ['activities', 'lookup', q],
    queryFn: () => deskLookup(q),
    enabled: q.trim().length >= 2,
    retry: false,
  });
  const add = useMutation({
    mutationFn: (memberId: string) => addRegistration(a.id, memberId),
    onSuccess: (r) => {
      setQ('');
      onAdded();
      void message.success(
        t('activities.registration.now', { name: r.member_name, status: t(`activities.registration.status.${r.status}`) }),
      );
    },
    onError: (err) => void message.error(errorText(t, err)),
  });
  return (
    <div className="page-toolbar">
      <AutoComplete
        value={q}
        onChange={setQ}
        style={{ width: 320, maxWidth: '100%' }}
        placeholder={t('activities.registration.addPlaceholder')}
        options={(found.data?.matches ?? []).map((m) => ({
          value: m.id,
          label: `${m.name}${m.phone_masked ? ` · ${m.phone_masked}` : ''}`,
        }))}
        onSelect={(id: string) => add.mutate(id)}
        data-testid="registration-add"
      />
    </div>
  );
}

function RejectModal({
  activity: a,
  registration: r,
  onClose,
  onDone,
}: {
  activity: Activity;
  registration: Registration;
  onClose: () => void;
  onDone: () => void;
}) {
  const { t } = useTranslation();
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string>();
  const reject = useMutation({
    mutationFn: () => rejectRegistration(a.id, r.id, reason.trim()),
    onSuccess: () => {
      onDone();
      onClose();
    },
    onError: (err) => setError(errorText(t, err)),
  });
  return (
    <Modal
      open
      title={t('activities.registration.rejectTitle', { name: r.member_name })}
      onCancel={onClose}
      okText={t('activities.registration.reject')}
      okButtonProps={{ danger: true, disabled: !reason.trim(), ...({ 'data-testid': 'reject-submit' } as Record<`data-${string}`, string>) }}
      cancelText={t('common.cancel')}
      confirmLoading={reject.isPending}
      onOk={() => reject.mutate()}
    >
      {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 12 }} />}
      <Input.TextArea
        rows={3}
        maxLength={200}
        value={reason}
        onChange={(e) => setReason(e.target.value)}
        placeholder={t('activities.registration.reason')}
        data-testid="reject-reason"
      />
    </Modal>
  );
}

function CheckInTab({ activity: a }: { activity: Activity }) {
  const { t, i18n } = useTranslation();
  const { me, can } = useAuth();
  const qc = useQueryClient();
  const [code, setCode] = useState('');
  const [last, setLast] = useState<{ ok: boolean; text: string }>();
  const [scanning, setScanning] = useState(false);
  const zone = me?.tenant.time_zone;
  const scan = useMutation({
    mutationFn: (c: string) => checkIn(a.id, c),
    onSuccess: (r) => {
      setCode('');
      void qc.invalidateQueries({ queryKey: activityKeys.one(a.id) });
      setLast({
        ok: true,
        text: t('activities.checkIn.done', {
          name: r.member_name,
          points: r.attend_points ?? 0,
        }),
      });
    },
    onError: (err) => {
      const at = err instanceof ApiProblem ? err.params?.at : undefined;
      const text =
        err instanceof ApiProblem && err.code === 'already_checked_in' && typeof at === 'string'
          ? t('errors.already_checked_in', {
              at: formatDateTime(at, i18n.language, zone),
              by: String(err.params?.by || '—'),
            })
          : errorText(t, err);
      setLast({ ok: false, text });
    },
  });
  if (!can('members:write')) return <Empty description={t('activities.checkIn.noRight')} />;
  return (
    <div data-testid="activity-check-in" style={{ maxWidth: 520 }}>
      <Typography.Paragraph type="secondary">{t('activities.checkIn.help')}</Typography.Paragraph>
      <div style={{ display: 'flex', gap: 8, flexWrap: 'wrap' }}>
        <Input.Search
          style={{ flex: '1 1 220px' }}
          value={code}
          onChange={(e) => setCode(e.target.value)}
          enterButton={t('activities.checkIn.submit')}
          placeholder={t('activities.checkIn.placeholder')}
          loading={scan.isPending}
          autoFocus
          onSearch={(v) => v.trim() && scan.mutate(v.trim())}
          data-testid="check-in-code"
        />
        <Button
          icon={<CameraOutlined />}
          onClick={() => {
            setLast(undefined);
            setScanning(true);
          }}
          data-testid="activity-scan"
        >
          {t('activities.scan.open')}
        </Button>
      </div>
      {scanning && (
        <Suspense fallback={null}>
          <ScanModal onCode={(c) => scan.mutate(c)} onClose={() => setScanning(false)} last={last} busy={scan.isPending} />
        </Suspense>
      )}
      {/* While the scanner is open it shows the answers itself. */}
      {last && !scanning && (
        <Alert
          style={{ marginTop: 12 }}
          type={last.ok ? 'success' : 'error'}
          showIcon
          message={last.text}
          data-testid={last.ok ? 'check-in-ok' : 'check-in-error'}
        />
      )}
    </div>
  );
}

function StatisticsTab({ activity: a }: { activity: Activity }) {
  const { t } = useTranslation();
  const money = useMoney();
  const s = useQuery({ queryKey: activityKeys.statistics(a.id), queryFn: () => fetchStatistics(a.id) });
  if (s.isPending) return <Spin />;
  if (s.isError) return <Alert type="error" showIcon message={errorText(t, s.error)} />;
  const d = s.data;
  const items: [string, string | number][] = [
    ['sign_ups', d.sign_ups],
    ['confirmed', d.confirmed],
    ['waitlisted', d.waitlisted],
    ['pending', d.pending],
    ['cancelled', d.cancelled],
    ['attended', d.attended],
    ['no_shows', d.no_shows],
    ['guests', d.guests],
    ['guests_attended', d.guests_attended],
    ['attendance_rate', d.attendance_rate === null || d.attendance_rate === undefined ? '—' : `${Math.round(d.attendance_rate * 100)}%`],
    ['points_awarded', d.points_awarded],
    ['ratings', d.ratings],
    ['average_stars', d.average_stars === null || d.average_stars === undefined ? '—' : d.average_stars.toFixed(1)],
    ['cost_per_attendee', d.cost_per_attendee === null || d.cost_per_attendee === undefined ? '—' : money(d.cost_per_attendee)],
  ];
  return (
    <div className="activity-stats" data-testid="activity-statistics" style={{ display: 'grid', gridTemplateColumns: 'repeat(auto-fill, minmax(150px, 1fr))', gap: 16 }}>
      {items.map(([k, v]) => (
        <Statistic key={k} title={t(`activities.stats.${k}`)} value={v} data-testid={`stat-${k}`} />
      ))}
    </div>
  );
}

function RatingsTab({ activity: a }: { activity: Activity }) {
  const { t, i18n } = useTranslation();
  const { me, can } = useAuth();
  const qc = useQueryClient();
  const { message } = App.useApp();
  const ratings = useQuery({ queryKey: activityKeys.ratings(a.id), queryFn: () => fetchRatings(a.id) });
  const hide = useMutation({
    mutationFn: ({ id, hidden }: { id: string; hidden: boolean }) => setRatingHidden(a.id, id, hidden),
    onSuccess: () => void qc.invalidateQueries({ queryKey: activityKeys.one(a.id) }),
    onError: (err) => void message.error(errorText(t, err)),
  });
  return (
    <Table<Rating>
      size="small"
      rowKey="registration_id"
      loading={ratings.isPending}
      dataSource={ratings.data ?? []}
      pagination={{ pageSize: 20 }}
      scroll={{ x: 600 }}
      locale={{ emptyText: ratings.isError ? errorText(t, ratings.error) : t('activities.ratings.none') }}
      data-testid="activity-ratings"
      columns={[
        { title: t('activities.registration.member'), dataIndex: 'member_name' },
        { title: t('activities.ratings.stars'), dataIndex: 'stars', render: (v: number) => <Rate disabled value={v} /> },
        { title: t('activities.ratings.comment'), dataIndex: 'comment' },
        {
          title: t('activities.ratings.at'),
          dataIndex: 'updated_at',
          responsive: ['md'],
          render: (v: string) => formatDateTime(v, i18n.language, me?.tenant.time_zone),
        },
        {
          title: t('activities.ratings.hidden'),
          dataIndex: 'hidden',
          render: (v: boolean, r) => (
            <Switch
              checked={v}
              disabled={!can('members:write')}
              onChange={(hidden) => hide.mutate({ id: r.registration_id, hidden })}
              data-testid={`rating-hidden-${r.member_name}`}
            />
          ),
        },
      ]}
    />
  );
}
