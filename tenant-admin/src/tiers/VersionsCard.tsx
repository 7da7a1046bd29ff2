// The ladder's published versions, with a rollback to an earlier one.
import { Alert, App, Button, Card, Popconfirm, Space, Table, Tag } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { Schemas } from '../api/client';
import { errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { useAuth } from '../auth/AuthContext';
import { nameIn, multiplierText } from './ladder';
import { fetchTierVersions, rollbackTiers, tiersKeys } from './api';
import { useActorName } from '../members/changes';

type Version = Schemas['LadderVersionView'];

export function VersionsCard() {
  const { t, i18n } = useTranslation();
  const actorName = useActorName();
  const { me, can } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const versions = useQuery({ queryKey: tiersKeys.versions(), queryFn: fetchTierVersions });
  const rollback = useMutation({
    mutationFn: rollbackTiers,
    onSuccess: (r) => {
      void qc.invalidateQueries({ queryKey: tiersKeys.overview() });
      void qc.invalidateQueries({ queryKey: tiersKeys.versions() });
      void message.success(t('tiers.versions.rolledBack', { version: r.version.version }));
    },
    onError: (err) => void message.error(errorText(t, err)),
  });
  return (
    <Card size="small" title={t('tiers.versions.title')} data-testid="tiers-versions">
      {versions.isError && <Alert type="error" showIcon message={errorText(t, versions.error)} />}
      <Table<Version>
        rowKey="version"
        size="small"
        loading={versions.isPending}
        dataSource={versions.data ?? []}
        pagination={{ pageSize: 10, hideOnSinglePage: true }}
        scroll={{ x: 'max-content' }}
        locale={{ emptyText: t('tiers.versions.none') }}
        expandable={{
          expandedRowRender: (v) => (
            <Space wrap>
              {v.ladder.tiers.map((tier) => (
                <Tag key={tier.code} color={tier.color ?? undefined}>
                  {`${nameIn(tier.name, i18n.language)} ≥ ${tier.threshold} · ${multiplierText(tier.benefits?.multiplier ?? 1000)}`}
                </Tag>
              ))}
            </Space>
          ),
        }}
        columns={[
          {
            title: t('tiers.versions.version'),
            key: 'version',
            render: (_, v) => (
              <Space>
                {`v${v.version}`}
                {v.active && <Tag color="green">{t('tiers.versions.active')}</Tag>}
              </Space>
            ),
          },
          {
            title: t('tiers.versions.tiers'),
            key: 'tiers',
            render: (_, v) => v.ladder.tiers.map((x) => nameIn(x.name, i18n.language)).join(' / '),
          },
          { title: t('tiers.versions.metric'), key: 'metric', render: (_, v) => t(`tiers.metric.${v.ladder.metric}`) },
          {
            title: t('tiers.versions.publishedAt'),
            dataIndex: 'published_at',
            render: (at: string) => formatDateTime(at, i18n.language, me?.tenant.time_zone),
          },
          { title: t('tiers.versions.by'), dataIndex: 'published_by', render: (a: string) => actorName(a) },
          { title: t('tiers.versions.note'), dataIndex: 'note' },
          {
            title: '',
            key: 'actions',
            render: (_, v) =>
              can('tiers:write') && !v.active ? (
                <Popconfirm title={t('tiers.versions.confirm', { version: v.version })} onConfirm={() => rollback.mutate(v.version)}>
                  <Button size="small" loading={rollback.isPending && rollback.variables === v.version}>
                    {t('tiers.versions.rollback')}
                  </Button>
                </Popconfirm>
              ) : null,
          },
        ]}
      />
    </Card>
  );
}
