// A trigger's published versions: which is in force, a line diff between any two (or a
// version and the editor), rollback, and opening a version in the editor.
import { useState } from 'react';
import { App, Button, Popconfirm, Select, Space, Table, Tag, Typography } from 'antd';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { Schemas } from '../api/client';
import { errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { useAuth } from '../auth/AuthContext';
import { diffStats, lineDiff } from './diff';
import { rollbackRule, rulesKeys } from './api';
import { useActorName } from '../members/changes';

type Version = Schemas['VersionView'];

/** Compare against the script in the editor. */
const EDITOR = 0;

export function VersionsPanel(props: { trigger: string; versions: Version[]; current: string; onOpen: (v: Version) => void }) {
  const { t, i18n } = useTranslation();
  const actorName = useActorName();
  const { me, can } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const tz = me?.tenant.time_zone;
  const { versions, trigger } = props;
  // Until the user picks, compare the two newest versions (or the newest with the editor).
  const [pickedLeft, setLeft] = useState<number>();
  const [pickedRight, setRight] = useState<number>();
  const left = pickedLeft ?? versions[1]?.version ?? versions[0]?.version;
  const right = pickedRight ?? (versions[1] ? versions[0]?.version : EDITOR);

  const rollback = useMutation({
    mutationFn: (version: number) =>
      rollbackRule(trigger, version),
    onSuccess: (v) => {
      void qc.invalidateQueries({ queryKey: rulesKeys.overview() });
      void qc.invalidateQueries({ queryKey: rulesKeys.versions(trigger) });
      void message.success(t('rules.versions.rolledBack', { version: v.version }));
    },
    onError: (err) => void message.error(errorText(t, err)),
  });

  if (versions.length === 0) return <Typography.Text type="secondary">{t('rules.versions.none')}</Typography.Text>;

  const textOf = (v: number | undefined) =>
    v === EDITOR ? props.current : (versions.find((x) => x.version === v)?.script ?? '');
  const options = [
    { value: EDITOR, label: t('rules.versions.editor') },
    ...versions.map((v) => ({ value: v.version, label: `v${v.version}${v.active ? ` (${t('rules.versions.active')})` : ''}` })),
  ];
  const rows = left !== undefined && right !== undefined ? lineDiff(textOf(left), textOf(right)) : [];
  const stats = diffStats(rows);

  return (
    <>
      <Table<Version>
        rowKey="version"
        size="small"
        data-testid="rule-versions"
        dataSource={versions}
        pagination={{ pageSize: 10, hideOnSinglePage: true }}
        scroll={{ x: 'max-content' }}
        columns={[
          {
            title: t('rules.versions.version'),
            key: 'version',
            render: (_, v) => (
              <Space>
                {`v${v.version}`}
                {v.active && <Tag color="green">{t('rules.versions.active')}</Tag>}
                {v.template ? <Tag>{t('rules.fromTemplate')}</Tag> : <Tag color="orange">{t('rules.versions.script')}</Tag>}
              </Space>
            ),
          },
          {
            title: t('rules.versions.publishedAt'),
            dataIndex: 'published_at',
            render: (at: string) => formatDateTime(at, i18n.language, tz),
          },
          { title: t('rules.versions.by'), dataIndex: 'published_by', render: (a: string) => actorName(a) },
          { title: t('rules.note'), dataIndex: 'note' },
          {
            title: t('common.actions'),
            key: 'actions',
            render: (_, v) => (
              <Space wrap>
                <Button type="link" size="small" onClick={() => props.onOpen(v)}>
                  {t('rules.versions.open')}
                </Button>
                <Button
                  type="link"
                  size="small"
                  onClick={() => {
                    setLeft(v.version);
                    setRight(EDITOR);
                  }}
                >
                  {t('rules.versions.compare')}
                </Button>
                {!v.active && can('rules:publish') && (
                  <Popconfirm
                    title={t('rules.versions.rollbackConfirm', { version: v.version })}
                    okText={t('rules.versions.rollback')}
                    cancelText={t('common.cancel')}
                    onConfirm={() => rollback.mutateAsync(v.version)}
                  >
                    <Button type="link" size="small" danger data-testid={`rule-rollback-${v.version}`}>
                      {t('rules.versions.rollback')}
                    </Button>
                  </Popconfirm>
                )}
              </Space>
            ),
          },
        ]}
      />
      <Typography.Title level={5} style={{ marginTop: 16 }}>
        {t('rules.versions.diff')}
      </Typography.Title>
      <Space wrap style={{ marginBottom: 8 }}>
        <Select style={{ minWidth: 160 }} value={left} onChange={setLeft} options={options} aria-label={t('rules.versions.from')} />
        →
        <Select style={{ minWidth: 160 }} value={right} onChange={setRight} options={options} aria-label={t('rules.versions.to')} />
        <Typography.Text type="secondary">
          {t('rules.versions.stats', { added: stats.added, removed: stats.removed })}
        </Typography.Text>
      </Space>
      <pre className="rule-diff" data-testid="rule-diff">
        {rows.map((r, i) => (
          <div key={i} className={`rule-diff-${r.kind}`}>
            <span className="rule-diff-no">{r.oldLine ?? ''}</span>
            <span className="rule-diff-no">{r.newLine ?? ''}</span>
            <span>{r.kind === 'added' ? '+ ' : r.kind === 'removed' ? '- ' : '  '}</span>
            {r.text}
          </div>
        ))}
      </pre>
    </>
  );
}
