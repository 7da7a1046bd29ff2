// Pictures of an activity: the cover picture chosen in the form (uploaded straight to the
// file store) and the photo wall on the activity's page (thumbnails; staff add and delete).
import { useState } from 'react';
import { App, Button, Empty, Image, Popconfirm, Space, Spin, Typography, Upload } from 'antd';
import type { UploadProps } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useAuth } from '../auth/AuthContext';
import { errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { MAX_PICTURE_BYTES, PICTURE_TYPES, uploadPicture, type UploadPurpose } from '../uploads/api';
import { activityKeys, addPhoto, deletePhoto, fetchPhotos, type Activity } from './api';

/** An antd Upload that sends one picture through the upload flow; `onDone` gets its id and address. */
function PictureUpload({
  purpose,
  onDone,
  label,
  testId,
}: {
  purpose: UploadPurpose;
  onDone: (id: string, url: string) => Promise<void> | void;
  label: string;
  testId: string;
}) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [busy, setBusy] = useState(false);
  const props: UploadProps = {
    accept: PICTURE_TYPES.join(','),
    showUploadList: false,
    beforeUpload: (file) => {
      if (!(PICTURE_TYPES as readonly string[]).includes(file.type)) {
        void message.error(t('activities.pictures.wrongType'));
        return Upload.LIST_IGNORE;
      }
      if (file.size > MAX_PICTURE_BYTES) {
        void message.error(t('activities.pictures.tooBig', { mb: MAX_PICTURE_BYTES / 1024 / 1024 }));
        return Upload.LIST_IGNORE;
      }
      return true;
    },
    customRequest: ({ file, onSuccess, onError }) => {
      setBusy(true);
      uploadPicture(file as File, purpose)
        .then(async (r) => {
          await onDone(r.upload.id, r.url);
          onSuccess?.(r);
        })
        .catch((err: unknown) => {
          void message.error(errorText(t, err));
          onError?.(err as Error);
        })
        .finally(() => setBusy(false));
    },
  };
  return (
    <span data-testid={testId}>
      <Upload {...props}>
        <Button loading={busy} data-testid={`${testId}-button`}>
          {label}
        </Button>
      </Upload>
    </span>
  );
}

/** The cover picture in the activity form: a preview and a button to upload another. The
 * mall item form uses it too, for an item's picture (`purpose`, `testId`, `texts`). */
export function CoverPicture({
  value,
  onChange,
  initialUrl,
  purpose = 'activity_cover',
  testId = 'activity-cover',
  texts = { upload: 'activities.pictures.uploadCover', replace: 'activities.pictures.replaceCover', remove: 'activities.pictures.removeCover' },
}: {
  value?: string | null;
  onChange?: (id: string | null) => void;
  initialUrl?: string | null;
  purpose?: UploadPurpose;
  testId?: string;
  texts?: { upload: string; replace: string; remove: string };
}) {
  const { t } = useTranslation();
  const [url, setUrl] = useState<string | null | undefined>(initialUrl);
  return (
    <Space align="start" wrap>
      {value && url ? (
        <Image src={url} width={120} height={80} style={{ objectFit: 'cover' }} data-testid={`${testId}-preview`} />
      ) : null}
      <Space direction="vertical" size={4}>
        <PictureUpload
          purpose={purpose}
          label={t(value ? texts.replace : texts.upload)}
          testId={`${testId}-upload`}
          onDone={(id, u) => {
            setUrl(u);
            onChange?.(id);
          }}
        />
        {value ? (
          <Button size="small" type="link" onClick={() => onChange?.(null)} data-testid={`${testId}-remove`}>
            {t(texts.remove)}
          </Button>
        ) : null}
      </Space>
    </Space>
  );
}

/** The photo wall tab: thumbnails oldest first; staff add photos and delete any. */
export function PhotosTab({ activity: a }: { activity: Activity }) {
  const { t, i18n } = useTranslation();
  const { me, can } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const photos = useQuery({ queryKey: activityKeys.photos(a.id), queryFn: () => fetchPhotos(a.id), retry: false });
  const refresh = () => qc.invalidateQueries({ queryKey: activityKeys.photos(a.id) });
  const remove = useMutation({
    mutationFn: (photo: string) => deletePhoto(a.id, photo),
    onSuccess: () => {
      void message.success(t('activities.pictures.deleted'));
      void refresh();
    },
    onError: (err) => void message.error(errorText(t, err)),
  });
  const writer = can('members:write');
  return (
    <Space direction="vertical" style={{ width: '100%' }} data-testid="activity-photos">
      {writer ? (
        <PictureUpload
          purpose="activity_photo"
          label={t('activities.pictures.addPhoto')}
          testId="activity-photo-upload"
          onDone={async (id) => {
            await addPhoto(a.id, id);
            void message.success(t('activities.pictures.added'));
            await refresh();
          }}
        />
      ) : null}
      {photos.isPending ? <Spin /> : null}
      {photos.isError ? <Typography.Text type="danger">{errorText(t, photos.error)}</Typography.Text> : null}
      {photos.data && photos.data.length === 0 ? <Empty description={t('activities.pictures.none')} /> : null}
      <Image.PreviewGroup>
        <Space wrap size={12}>
          {(photos.data ?? []).map((p) => (
            <Space key={p.id} direction="vertical" size={4} data-testid="activity-photo">
              <Image src={p.url} width={140} height={105} style={{ objectFit: 'cover' }} alt={p.file_name} />
              <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                {formatDateTime(p.created_at, i18n.language, me?.tenant.time_zone)}
                {p.member_id ? ` · ${t('activities.pictures.byMember')}` : ''}
              </Typography.Text>
              {writer ? (
                <Popconfirm title={t('activities.pictures.confirmDelete')} onConfirm={() => remove.mutate(p.id)}>
                  <Button size="small" danger data-testid="activity-photo-delete">
                    {t('activities.pictures.delete')}
                  </Button>
                </Popconfirm>
              ) : null}
            </Space>
          ))}
        </Space>
      </Image.PreviewGroup>
    </Space>
  );
}
