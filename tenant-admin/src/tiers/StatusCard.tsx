// The tiers page's status: the ladder in force, members per tier, the latest
// re-evaluation's progress, and the members the tier script failed for.
import { Alert, Card, Progress, Space, Table, Tag, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import type { Schemas } from '../api/client';
import { formatDateTime } from '../common/format';
import { useAuth } from '../auth/AuthContext';
import { failureText } from '../rules/diagnostics';
import { nameIn, runPercent } from './ladder';

type Overview = Schemas['TiersOverview'];

/** The ladder in force, members per tier, and the latest re-evaluation. */
export function StatusCard({ overview, loading }: { overview: Overview | undefined; loading: boolean }) {
  const { t, i18n } = useTranslation();
  const { me } = useAuth();
  const run = overview?.run;
  return (
    <Card size="small" loading={loading} style={{ marginBottom: 16 }} data-testid="tiers-status">
      <Space direction="vertical" style={{ width: '100%' }}>
        <Typography.Text>
          {overview?.active
            ? t('tiers.status.active', { version: overview.active.version })
            : t('tiers.status.none')}
        </Typography.Text>
        {overview && overview.counts.length > 0 && (
          <Space wrap>
            {overview.counts.map((c) => (
              <Tag key={c.code} color={c.color}>
                {`${nameIn(c.name, i18n.language)} · ${c.members}`}
              </Tag>
            ))}
          </Space>
        )}
        {run && (
          <div data-testid="tiers-run" data-status={run.status}>
            <Typography.Text>
              {t(`tiers.run.${run.status}`, {
                defaultValue: run.status,
                version: run.version,
                done: run.done,
                total: run.total,
                moved: run.moved,
                at: formatDateTime(run.finished_at, i18n.language, me?.tenant.time_zone),
              })}
            </Typography.Text>
            <Progress
              percent={runPercent(run)}
              status={run.status === 'running' ? 'active' : run.status === 'done' ? 'success' : 'normal'}
            />
            {run.errors > 0 && (
              <Typography.Text type="danger" data-testid="tiers-run-errors">
                {t('tiers.script.runErrors', { errors: run.errors })}
              </Typography.Text>
            )}
          </div>
        )}
        {overview && overview.script_errors_total > 0 && <ScriptErrors overview={overview} />}
      </Space>
    </Card>
  );
}

/** Members the tier script in force failed for: their latest error. */
function ScriptErrors({ overview }: { overview: Overview }) {
  const { t, i18n } = useTranslation();
  const { me } = useAuth();
  return (
    <div data-testid="tiers-script-errors">
      <Alert type="warning" showIcon message={t('tiers.script.errors', { total: overview.script_errors_total })} />
      <Table<Schemas['TierScriptErrorView']>
        rowKey="member_id"
        size="small"
        style={{ marginTop: 8 }}
        dataSource={overview.script_errors}
        pagination={{ pageSize: 5, hideOnSinglePage: true }}
        scroll={{ x: 'max-content' }}
        columns={[
          {
            title: t('tiers.script.member'),
            dataIndex: 'member_name',
            render: (name: string, e) => <Link to={`/members/${e.member_id}`}>{name || e.member_id.slice(-6)}</Link>,
          },
          {
            title: t('tiers.script.during'),
            dataIndex: 'during',
            render: (d: string) => t(`tiers.script.duringKinds.${d}`, { defaultValue: d }),
          },
          { title: t('tiers.script.what'), key: 'error', render: (_, e) => failureText(e.error) },
          { title: t('tiers.script.failures'), dataIndex: 'failures' },
          {
            title: t('tiers.script.at'),
            dataIndex: 'at',
            render: (at: string) => formatDateTime(at, i18n.language, me?.tenant.time_zone),
          },
        ]}
      />
    </div>
  );
}
