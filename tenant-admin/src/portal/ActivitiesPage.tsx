// Activities in the member portal: the upcoming activities I may join (sign up, or join the
// line when full), and my registrations — cancel, take an offered seat, show the rotating
// check-in code as a QR code at the door, rate an activity I attended and see its photos
// (add mine, delete mine).
import { useState } from 'react';
import { Alert, App, Button, Empty, Input, Modal, Popconfirm, Rate, Space, Spin, Tag, Typography } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { QRCodeSVG } from 'qrcode.react';
import { useTranslation } from 'react-i18next';
import { errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { newIdempotencyKey } from '../points/cursor';
import type { Schemas } from '../api/client';
import {
  acceptActivityOffer,
  addActivityPhoto,
  cancelMyActivity,
  deleteActivityPhoto,
  fetchActivityPhotos,
  fetchActivityCode,
  fetchMyActivities,
  fetchPortalActivities,
  portalKeys,
  rateActivity,
  signUpActivity,
  uploadMyPhoto,
} from './api';
import { usePortal } from './PortalRoutes';
import { priceText } from '../activities/price';

type Mine = Schemas['MyActivityRegistration'];
type Offered = Schemas['PortalActivity'];

const COLORS: Readonly<Record<string, string>> = {
  pending: 'gold',
  confirmed: 'green',
  waitlisted: 'purple',
  offered: 'cyan',
  cancelled: 'default',
  rejected: 'red',
  lapsed: 'default',
};

function useActivities() {
  const { slug, token } = usePortal();
  const open = useQuery({
    queryKey: [...portalKeys.activities(slug, token), 'open'],
    queryFn: () => fetchPortalActivities(slug),
    enabled: token !== null,
  });
  const mine = useQuery({
    queryKey: [...portalKeys.activities(slug, token), 'mine'],
    queryFn: () => fetchMyActivities(slug),
    enabled: token !== null,
  });
  return { open, mine };
}

export function ActivitiesPage() {
  const { t } = useTranslation();
  const { open, mine } = useActivities();
  const [showing, setShowing] = useState<Mine>();
  if (open.isPending || mine.isPending) return <Spin style={{ display: 'block', margin: 48 }} />;
  if (open.isError) return <Alert type="error" showIcon message={errorText(t, open.error)} />;
  if (mine.isError) return <Alert type="error" showIcon message={errorText(t, mine.error)} />;
  const live = (s: string) => ['pending', 'confirmed', 'waitlisted', 'offered'].includes(s);
  const current = mine.data.filter((r) => live(r.status) || r.checked_in_at);
  return (
    <div data-testid="portal-activities">
      <Typography.Title level={3}>{t('activities.portal.title')}</Typography.Title>
      <section className="portal-panel" style={{ marginBottom: 16 }} data-testid="portal-my-activities">
        <Typography.Title level={5} style={{ marginTop: 0 }}>
          {t('activities.portal.mine')}
        </Typography.Title>
        {current.length === 0 && <Typography.Text type="secondary">{t('activities.portal.noneMine')}</Typography.Text>}
        <ul className="portal-entries">
          {current.map((r) => (
            <MyRegistration key={r.id} r={r} onShowCode={() => setShowing(r)} />
          ))}
        </ul>
      </section>
      <section className="portal-panel" data-testid="portal-open-activities">
        <Typography.Title level={5} style={{ marginTop: 0 }}>
          {t('activities.portal.upcoming')}
        </Typography.Title>
        {open.data.length === 0 && <Empty description={t('activities.portal.noneOpen')} />}
        <ul className="portal-entries">
          {open.data.map((a) => (
            <OpenActivity key={a.id} a={a} />
          ))}
        </ul>
      </section>
      {showing && <CodeModal registration={showing} onClose={() => setShowing(undefined)} />}
    </div>
  );
}

function OpenActivity({ a }: { a: Offered }) {
  const { t, i18n } = useTranslation();
  const { slug, token } = usePortal();
  const qc = useQueryClient();
  const { message } = App.useApp();
  const [key] = useState(() => newIdempotencyKey('sign-up'));
  const signUp = useMutation({
    mutationFn: () => signUpActivity(slug, a.id, key),
    onSuccess: (r) => {
      void qc.invalidateQueries({ queryKey: portalKeys.activities(slug, token) });
      void message.success(t(`activities.portal.signedUp.${r.status}`, { defaultValue: t('activities.portal.signedUp.confirmed') }));
    },
    onError: (err) => void message.error(errorText(t, err)),
  });
  return (
    <li className="portal-entry" data-testid={`portal-activity-${a.title}`}>
      <div style={{ minWidth: 0 }}>
        <div className="portal-entry-title">{a.title}</div>
        <Typography.Text type="secondary">
          {formatDateTime(a.starts_at, i18n.language, a.time_zone)}
          {a.place ? ` · ${a.place}` : ''}
        </Typography.Text>
        <div>
          <Typography.Text type="secondary">
            {a.seats_left > 0 ? t('activities.portal.seatsLeft', { count: a.seats_left }) : t('activities.portal.full')}
            {' · '}
            {priceText(t, a)}
            {a.attend_points > 0 ? ` · ${t('activities.portal.earn', { count: a.attend_points })}` : ''}
          </Typography.Text>
        </div>
        {a.description && <Typography.Paragraph ellipsis={{ rows: 2 }} style={{ margin: 0 }}>{a.description}</Typography.Paragraph>}
      </div>
      {a.mine ? (
        <Tag color={COLORS[a.mine.status]}>{t(`activities.registration.status.${a.mine.status}`)}</Tag>
      ) : a.open ? (
        <Button type="primary" size="small" loading={signUp.isPending} onClick={() => signUp.mutate()} data-testid={`portal-sign-up-${a.title}`}>
          {a.seats_left > 0 ? t('activities.portal.signUp') : t('activities.portal.joinLine')}
        </Button>
      ) : (
        <Tag>{t('activities.portal.closed')}</Tag>
      )}
    </li>
  );
}

function MyRegistration({ r, onShowCode }: { r: Mine; onShowCode: () => void }) {
  const { t, i18n } = useTranslation();
  const { slug, token } = usePortal();
  const qc = useQueryClient();
  const { message } = App.useApp();
  const [key] = useState(() => newIdempotencyKey('cancel'));
  const [rating, setRating] = useState(false);
  const [photos, setPhotos] = useState(false);
  const refresh = () => void qc.invalidateQueries({ queryKey: portalKeys.activities(slug, token) });
  const cancel = useMutation({
    mutationFn: () => cancelMyActivity(slug, r.id, key),
    onSuccess: () => {
      refresh();
      void message.success(t('activities.portal.cancelled'));
    },
    onError: (err) => void message.error(errorText(t, err)),
  });
  const accept = useMutation({
    mutationFn: () => acceptActivityOffer(slug, r.id),
    onSuccess: () => {
      refresh();
      void message.success(t('activities.portal.accepted'));
    },
    onError: (err) => void message.error(errorText(t, err)),
  });
  return (
    <li className="portal-entry" data-testid={`portal-mine-${r.activity_title}`}>
      <div style={{ minWidth: 0 }}>
        <div className="portal-entry-title">{r.activity_title}</div>
        <Typography.Text type="secondary">
          {formatDateTime(r.starts_at, i18n.language, r.time_zone)}
          {r.place ? ` · ${r.place}` : ''}
        </Typography.Text>
        <div>
          <Tag color={COLORS[r.status]} data-testid={`portal-mine-status-${r.status}`}>
            {t(`activities.registration.status.${r.status}`)}
          </Tag>
          {r.position ? <Typography.Text type="secondary">{t('activities.registration.position', { n: r.position })}</Typography.Text> : null}
          {r.offer_expires_at && (
            <Typography.Text type="secondary">
              {t('activities.registration.offerUntil', { at: formatDateTime(r.offer_expires_at, i18n.language, r.time_zone) })}
            </Typography.Text>
          )}
          {r.checked_in_at && <Tag color="blue">{t('activities.portal.attended')}</Tag>}
        </div>
        {r.rating && (
          <Rate disabled value={r.rating.stars} style={{ fontSize: 14 }} />
        )}
      </div>
      <Space direction="vertical" size={4} align="end">
        {r.status === 'confirmed' && !r.checked_in_at && (
          <Button type="primary" size="small" onClick={onShowCode} data-testid="portal-show-code">
            {t('activities.portal.showCode')}
          </Button>
        )}
        {r.status === 'offered' && (
          <Button type="primary" size="small" loading={accept.isPending} onClick={() => accept.mutate()} data-testid="portal-accept">
            {t('activities.portal.accept')}
          </Button>
        )}
        {r.checked_in_at && (
          <Button size="small" onClick={() => setRating(true)} data-testid="portal-rate">
            {r.rating ? t('activities.portal.changeRating') : t('activities.portal.rate')}
          </Button>
        )}
        {r.checked_in_at && (
          <Button size="small" onClick={() => setPhotos(true)} data-testid="portal-photos">
            {t('activities.portal.photos')}
          </Button>
        )}
        {r.can_cancel && !r.checked_in_at && (
          <Popconfirm
            title={t('activities.portal.cancelConfirm')}
            okText={t('activities.registration.cancel')}
            cancelText={t('common.cancel')}
            onConfirm={() => cancel.mutate()}
          >
            <Button size="small" danger data-testid="portal-cancel">
              {t('activities.registration.cancel')}
            </Button>
          </Popconfirm>
        )}
      </Space>
      {rating && <RateModal r={r} onClose={() => setRating(false)} onDone={refresh} />}
      {photos && <PhotosModal r={r} onClose={() => setPhotos(false)} />}
    </li>
  );
}

/** The check-in code as a QR code, fetched again when its 30-second window ends. */
function CodeModal({ registration: r, onClose }: { registration: Mine; onClose: () => void }) {
  const { t } = useTranslation();
  const { slug } = usePortal();
  const code = useQuery({
    queryKey: portalKeys.activityCode(slug, r.id),
    queryFn: () => fetchActivityCode(slug, r.id),
    refetchInterval: (q) => {
      const at = q.state.data?.refresh_at;
      if (!at) return 30_000;
      return Math.max(1_000, new Date(at).getTime() - Date.now() + 500);
    },
    refetchIntervalInBackground: false,
  });
  return (
    <Modal open footer={null} onCancel={onClose} title={r.activity_title} centered width={340}>
      {code.isPending ? (
        <Spin style={{ display: 'block', margin: 24 }} />
      ) : code.isError ? (
        <Alert type="error" showIcon message={errorText(t, code.error)} />
      ) : (
        <div style={{ textAlign: 'center' }} data-testid="portal-activity-code">
          <QRCodeSVG value={code.data.code} size={220} marginSize={2} title={t('activities.portal.qr')} />
          <Typography.Paragraph copyable={{ text: code.data.code }} style={{ fontFamily: 'monospace', marginTop: 8 }} data-testid="portal-activity-code-text">
            {code.data.code}
          </Typography.Paragraph>
          <Typography.Text type="secondary">{t('activities.portal.codeNote')}</Typography.Text>
        </div>
      )}
    </Modal>
  );
}

function RateModal({ r, onClose, onDone }: { r: Mine; onClose: () => void; onDone: () => void }) {
  const { t } = useTranslation();
  const { slug } = usePortal();
  const [stars, setStars] = useState(r.rating?.stars ?? 5);
  const [comment, setComment] = useState(r.rating?.comment ?? '');
  const [error, setError] = useState<string>();
  const save = useMutation({
    mutationFn: () => rateActivity(slug, r.id, { stars, comment: comment.trim() }),
    onSuccess: () => {
      onDone();
      onClose();
    },
    onError: (err) => setError(errorText(t, err)),
  });
  return (
    <Modal
      open
      centered
      title={t('activities.portal.rateTitle', { title: r.activity_title })}
      onCancel={onClose}
      okText={t('activities.portal.saveRating')}
      cancelText={t('common.cancel')}
      confirmLoading={save.isPending}
      onOk={() => save.mutate()}
      okButtonProps={{ ...({ 'data-testid': 'portal-rate-submit' } as Record<`data-${string}`, string>) }}
    >
      {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 12 }} />}
      <Rate value={stars} onChange={(v) => setStars(v || 1)} data-testid="portal-rate-stars" />
      <Input.TextArea
        rows={3}
        maxLength={1000}
        value={comment}
        onChange={(e) => setComment(e.target.value)}
        placeholder={t('activities.portal.comment')}
        style={{ marginTop: 12 }}
        data-testid="portal-rate-comment"
      />
    </Modal>
  );
}

/** The photo wall of an activity I attended: everyone's photos; I add mine and delete mine. */
function PhotosModal({ r, onClose }: { r: Mine; onClose: () => void }) {
  const { t } = useTranslation();
  const { slug } = usePortal();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const key = portalKeys.activityPhotos(slug, r.id);
  const photos = useQuery({ queryKey: key, queryFn: () => fetchActivityPhotos(slug, r.id), retry: false });
  const refresh = () => void qc.invalidateQueries({ queryKey: key });
  const add = useMutation({
    mutationFn: async (file: File) => addActivityPhoto(slug, r.id, await uploadMyPhoto(slug, file)),
    onSuccess: () => {
      void message.success(t('activities.pictures.added'));
      refresh();
    },
    onError: (err) => void message.error(errorText(t, err)),
  });
  const remove = useMutation({
    mutationFn: (photo: string) => deleteActivityPhoto(slug, r.id, photo),
    onSuccess: refresh,
    onError: (err) => void message.error(errorText(t, err)),
  });
  const pick = (e: React.ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    e.target.value = '';
    if (!file) return;
    if (!['image/jpeg', 'image/png', 'image/webp'].includes(file.type)) {
      void message.error(t('activities.pictures.wrongType'));
      return;
    }
    if (file.size > 5 * 1024 * 1024) {
      void message.error(t('activities.pictures.tooBig', { mb: 5 }));
      return;
    }
    add.mutate(file);
  };
  return (
    <Modal open title={r.activity_title} footer={null} onCancel={onClose} data-testid="portal-photos-modal">
      <Space direction="vertical" style={{ width: '100%' }}>
        <label>
          <input
            type="file"
            accept="image/jpeg,image/png,image/webp"
            onChange={pick}
            style={{ display: 'none' }}
            data-testid="portal-photo-input"
          />
          <Button loading={add.isPending} onClick={(e) => (e.currentTarget.previousElementSibling as HTMLInputElement | null)?.click()}>
            {t('activities.pictures.addPhoto')}
          </Button>
        </label>
        {photos.isPending && <Spin />}
        {photos.isError && <Alert type="error" showIcon message={errorText(t, photos.error)} />}
        {photos.data?.length === 0 && <Empty description={t('activities.pictures.none')} />}
        <div style={{ display: 'grid', gridTemplateColumns: 'repeat(auto-fill, minmax(96px, 1fr))', gap: 8 }}>
          {(photos.data ?? []).map((p) => (
            <div key={p.id} data-testid="portal-photo">
              <img src={p.url} alt="" style={{ width: '100%', aspectRatio: '4 / 3', objectFit: 'cover', borderRadius: 4 }} />
              {p.mine && (
                <Popconfirm
                  title={t('activities.pictures.confirmDelete')}
                  okText={t('activities.pictures.delete')}
                  cancelText={t('common.cancel')}
                  onConfirm={() => remove.mutate(p.id)}
                >
                  <Button size="small" type="link" danger data-testid="portal-photo-delete">
                    {t('activities.pictures.delete')}
                  </Button>
                </Popconfirm>
              )}
            </div>
          ))}
        </div>
      </Space>
    </Modal>
  );
}
