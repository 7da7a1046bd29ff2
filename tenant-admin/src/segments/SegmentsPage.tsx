// 会员分群 (saved segments): the business's named member searches with their live count.
// A segment is opened in the member list (to see or change its members' filter), renamed or
// deleted here; a campaign can be sent to one.
import { useState } from 'react';
import { App, Button, Input, Modal, Popconfirm, Space, Table, Tag, Typography } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { useAuth } from '../auth/AuthContext';
import { errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { missingFeature } from '../prepaid/parts';
import { conditionsOf, countSegment, createSegment, deleteSegment, fetchSegments, givenConditions, segmentKeys, updateSegment, type Segment } from './api';

export function SegmentsPage() {
  const { t, i18n } = useTranslation();
  const { me, can } = useAuth();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [renaming, setRenaming] = useState<Segment>();
  const list = useQuery({ queryKey: segmentKeys.list(), queryFn: fetchSegments, retry: false });
  const remove = useMutation({
    mutationFn: (id: string) => deleteSegment(id),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: segmentKeys.all });
      void message.success(t('segments.deleted'));
    },
    onError: (err) => void message.error(errorText(t, err)),
  });
  const writer = can('campaigns:manage');
  if (missingFeature(list.error)) {
    return (
      <div data-testid="segments-page">
        <Typography.Title level={3}>{t('segments.title')}</Typography.Title>
        <Typography.Paragraph data-testid="segments-gate">{t('segments.gate')}</Typography.Paragraph>
      </div>
    );
  }
  return (
    <div data-testid="segments-page">
      <Typography.Title level={3}>{t('segments.title')}</Typography.Title>
      <Typography.Paragraph type="secondary">{t('segments.intro')}</Typography.Paragraph>
      <Table<Segment>
        size="small"
        rowKey="id"
        loading={list.isPending}
        dataSource={list.data ?? []}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        scroll={{ x: 'max-content' }}
        locale={{ emptyText: list.isError ? errorText(t, list.error) : t('segments.none') }}
        columns={[
          { title: t('segments.name'), dataIndex: 'name', render: (v: string) => <span data-testid="segment-name">{v}</span> },
          {
            title: t('segments.conditions'),
            key: 'filter',
            render: (_, s) => {
              const given = givenConditions(s.filter);
              return given.length === 0 ? (
                <Typography.Text type="secondary">{t('segments.everyone')}</Typography.Text>
              ) : (
                <Space size={[4, 4]} wrap>
                  {given.map(([k, v]) => (
                    <Tag key={k}>
                      {k.startsWith('custom:') ? k.slice(7) : t(`segments.f.${k}`)}: {v}
                    </Tag>
                  ))}
                </Space>
              );
            },
          },
          { title: t('segments.members'), key: 'count', align: 'right', render: (_, s) => <SegmentCount id={s.id} /> },
          {
            title: t('segments.updated'),
            key: 'updated',
            render: (_, s) => formatDateTime(s.updated_at, i18n.language, me?.tenant.time_zone),
          },
          {
            title: '',
            key: 'actions',
            render: (_, s) => (
              <Space wrap>
                <Button size="small" onClick={() => navigate(`/members?segment=${s.id}`)} data-testid="segment-open">
                  {t('segments.open')}
                </Button>
                {writer && (
                  <>
                    <Button size="small" onClick={() => setRenaming(s)} data-testid="segment-rename">
                      {t('segments.rename')}
                    </Button>
                    <Popconfirm
                      title={t('segments.deleteConfirm', { name: s.name })}
                      onConfirm={() => remove.mutate(s.id)}
                      okText={t('segments.delete')}
                      cancelText={t('common.cancel')}
                    >
                      <Button size="small" danger data-testid="segment-delete">
                        {t('segments.delete')}
                      </Button>
                    </Popconfirm>
                  </>
                )}
              </Space>
            ),
          },
        ]}
      />
      {renaming && <RenameModal segment={renaming} onClose={() => setRenaming(undefined)} />}
    </div>
  );
}

/** A segment's live count (counted up to 10,000). */
export function SegmentCount({ id }: { id: string }) {
  const { t } = useTranslation();
  const q = useQuery({ queryKey: segmentKeys.count(id), queryFn: () => countSegment(id), retry: false });
  if (q.isPending) return <span>…</span>;
  if (q.isError) return <Typography.Text type="danger">{errorText(t, q.error)}</Typography.Text>;
  return <span data-testid="segment-count">{q.data.more ? t('segments.countMore', { count: q.data.members }) : q.data.members}</span>;
}

function RenameModal({ segment, onClose }: { segment: Segment; onClose: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [name, setName] = useState(segment.name);
  const [error, setError] = useState<string>();
  const save = useMutation({
    mutationFn: () => updateSegment(segment.id, { name, filter: segment.filter }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: segmentKeys.all });
      void message.success(t('segments.saved'));
      onClose();
    },
    onError: (err) => setError(errorText(t, err)),
  });
  return (
    <Modal open title={t('segments.rename')} onCancel={onClose} onOk={() => save.mutate()} confirmLoading={save.isPending} okText={t('common.save')} cancelText={t('common.cancel')}>
      <Input value={name} maxLength={100} onChange={(e) => setName(e.target.value)} data-testid="segment-name-input" />
      {error && (
        <Typography.Paragraph type="danger" role="alert" data-testid="segment-error">
          {error}
        </Typography.Paragraph>
      )}
    </Modal>
  );
}

/** Saves a member search as a new segment, or into the segment it was opened from. */
export function SaveSegmentModal({
  filter,
  onClose,
  onSaved,
}: {
  filter: Segment['filter'];
  onClose: () => void;
  onSaved: (s: Segment) => void;
}) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const [name, setName] = useState('');
  const [error, setError] = useState<string>();
  const [key] = useState(() => crypto.randomUUID());
  const save = useMutation({
    mutationFn: () => createSegment({ name, filter: conditionsOf(filter), idempotency_key: key }),
    onSuccess: (s) => {
      void qc.invalidateQueries({ queryKey: segmentKeys.all });
      onSaved(s);
    },
    onError: (err) => setError(errorText(t, err)),
  });
  return (
    <Modal open title={t('segments.saveAs')} onCancel={onClose} onOk={() => save.mutate()} confirmLoading={save.isPending} okText={t('common.save')} cancelText={t('common.cancel')}>
      <Typography.Paragraph type="secondary">{t('segments.saveAsHelp')}</Typography.Paragraph>
      <Input value={name} maxLength={100} placeholder={t('segments.name')} onChange={(e) => setName(e.target.value)} data-testid="segment-new-name" />
      {error && (
        <Typography.Paragraph type="danger" role="alert" data-testid="segment-error">
          {error}
        </Typography.Paragraph>
      )}
    </Modal>
  );
}
