// The preview of a draft ladder: members per tier now and under the draft, the members the
// script failed for, and who would move.
import { useMemo } from 'react';
import { Alert, Card, Table, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import type { Schemas } from '../api/client';
import { failureText } from '../rules/diagnostics';
import { EChart } from './EChart';
import { previewSeries } from './ladder';

type Preview = Schemas['TierPreview'];

export function PreviewCard({ preview }: { preview: Preview }) {
  const { t, i18n } = useTranslation();
  const s = useMemo(() => previewSeries(preview, i18n.language), [preview, i18n.language]);
  const label = (code: string) => s.labels[s.codes.indexOf(code)] ?? code;
  return (
    <Card size="small" title={t('tiers.preview.title')} style={{ marginBottom: 16 }} data-testid="tiers-preview-result">
      <Typography.Paragraph>
        {t('tiers.preview.summary', { total: preview.total, moving: preview.moving })}
      </Typography.Paragraph>
      {preview.errors > 0 && (
        <Alert
          type="warning"
          showIcon
          style={{ marginBottom: 16 }}
          data-testid="tiers-preview-errors"
          message={t('tiers.preview.errors', { errors: preview.errors })}
          description={
            <ul style={{ margin: 0, paddingLeft: 16 }}>
              {preview.error_samples.map((e) => (
                <li key={e.member_id}>
                  <Link to={`/members/${e.member_id}`}>{e.name || e.member_id.slice(-6)}</Link>
                  {`: ${failureText(e.error)}`}
                </li>
              ))}
            </ul>
          }
        />
      )}
      <EChart
        testId="tiers-preview-chart"
        label={t('tiers.preview.chart')}
        option={{
          tooltip: { trigger: 'axis' },
          legend: { top: 0, data: [t('tiers.preview.now'), t('tiers.preview.draft')] },
          grid: { left: 40, right: 16, bottom: 32, top: 40 },
          xAxis: { type: 'category', data: s.labels },
          yAxis: { type: 'value', minInterval: 1 },
          series: [
            { name: t('tiers.preview.now'), type: 'bar', data: s.now, itemStyle: { color: '#bfbfbf' } },
            {
              name: t('tiers.preview.draft'),
              type: 'bar',
              data: s.draft.map((v, i) => ({ value: v, itemStyle: { color: s.colors[i] } })),
            },
          ],
        }}
      />
      <Table<Schemas['TierPreviewMove']>
        rowKey="member_id"
        size="small"
        style={{ marginTop: 16 }}
        data-testid="tiers-preview-moves"
        dataSource={preview.moves}
        pagination={{ pageSize: 10, hideOnSinglePage: true }}
        scroll={{ x: 'max-content' }}
        locale={{ emptyText: t('tiers.preview.noMoves') }}
        title={() =>
          preview.moving > preview.moves.length
            ? t('tiers.preview.firstMoves', { shown: preview.moves.length, moving: preview.moving })
            : t('tiers.preview.moves')
        }
        columns={[
          {
            title: t('tiers.preview.member'),
            dataIndex: 'name',
            render: (name: string, m) => <Link to={`/members/${m.member_id}`}>{name || m.member_id.slice(-6)}</Link>,
          },
          { title: t('tiers.preview.from'), dataIndex: 'from', render: (c: string) => (c ? label(c) : '—') },
          { title: t('tiers.preview.to'), dataIndex: 'to', render: (c: string) => label(c) },
          { title: t('tiers.preview.metric'), dataIndex: 'metric' },
        ]}
      />
    </Card>
  );
}
