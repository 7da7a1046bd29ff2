import { useEffect, useMemo, useState } from 'react';
import { Alert, Button, Card, Descriptions, Progress, Radio, Result, Select, Space, Steps, Table, Typography } from 'antd';
import { InboxOutlined } from '@ant-design/icons';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import type { Schemas } from '../api/client';
import { errorText } from '../common/forms';
import { fieldProblemText } from '../api/fieldText';
import { useFields } from '../fields/queries';
import { fetchImport, membersKeys, startImport } from './api';
import { csvHeader, guessTarget, xlsxHeader } from './importFile';
import { nameIn } from '../common/format';
import { importFailureText } from './importText';

type ImportView = Schemas['ImportView'];
type Mode = Schemas['ImportMode'];
type Format = Schemas['FileFormat'];

const BUILTIN_TARGETS = ['name', 'phone', 'email', 'gender', 'birthday', 'join_date', 'home_store', 'tags', 'notes', 'card_number'] as const;

/** Polls an import until it is no longer running. */
function useImport(id: string | undefined) {
  return useQuery({
    queryKey: membersKeys.import(id),
    queryFn: () => fetchImport(id!),
    enabled: id !== undefined,
    refetchInterval: (q) => (q.state.data?.status === 'running' || !q.state.data ? 1000 : false),
  });
}

/** The import wizard: upload, map columns, dry run with its report, commit, progress. */
export function ImportPage() {
  const { t, i18n } = useTranslation();
  const qc = useQueryClient();
  const fields = useFields();
  const [file, setFile] = useState<File>();
  const [headers, setHeaders] = useState<string[]>();
  const [mapping, setMapping] = useState<Record<string, string>>({});
  const [dryId, setDryId] = useState<string>();
  const [mode, setMode] = useState<Mode>('valid_only');
  const [commitId, setCommitId] = useState<string>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const dry = useImport(dryId);
  const commit = useImport(commitId);
  const format: Format = file && /\.xlsx$/i.test(file.name) ? 'xlsx' : 'csv';

  const targets = useMemo(() => {
    const lang = i18n.language === 'en' ? 'en' : 'zh-CN';
    const builtin = BUILTIN_TARGETS.map((k) => ({
      value: k,
      label: t(`members.f.${k}`),
      names: [t(`members.f.${k}`, { lng: 'en' }), t(`members.f.${k}`, { lng: 'zh-CN' })],
    }));
    const custom = (fields.data?.fields ?? []).map((f) => ({
      value: `custom.${f.key}`,
      label: nameIn(f.label, lang) || f.key,
      names: [f.key, f.label['zh-CN'], f.label.en],
    }));
    return [...builtin, ...custom];
  }, [fields.data, i18n.language, t]);

  async function choose(f: File | undefined) {
    setFile(f);
    setDryId(undefined);
    setCommitId(undefined);
    setError(undefined);
    if (!f) return;
    const hs = /\.xlsx$/i.test(f.name) ? await xlsxHeader(await f.arrayBuffer()) : csvHeader(await f.slice(0, 64 * 1024).text());
    setHeaders(hs);
    setMapping({});
  }

  async function run(m: Mode) {
    if (!file) return;
    setBusy(true);
    setError(undefined);
    try {
      const started = await startImport(file, { format, mode: m, mapping: JSON.stringify(headers ? effective : {}) });
      if (m === 'dry_run') {
        setCommitId(undefined);
        setDryId(started.id);
      } else setCommitId(started.id);
      qc.setQueryData(membersKeys.import(started.id), started);
    } catch (err) {
      setError(errorText(t, err));
    } finally {
      setBusy(false);
    }
  }

  useEffect(() => {
    if (commit.data && commit.data.status !== 'running') void qc.invalidateQueries({ queryKey: membersKeys.searches() });
  }, [commit.data, qc]);

  // Explicit choices, else a guess from the column's name (made again once the fields load).
  const effective = Object.fromEntries((headers ?? []).map((h) => [h, mapping[h] ?? guessTarget(h, targets)]));
  const dryDone = dry.data && dry.data.status !== 'running';
  const step = commitId ? 3 : dryDone ? 2 : file ? 1 : 0;

  return (
    <>
      <div className="page-toolbar">
        <Typography.Title level={2}>{t('members.import.title')}</Typography.Title>
        <Link to="/members">{t('members.backToList')}</Link>
      </div>
      <Steps
        current={step}
        size="small"
        style={{ marginBottom: 24 }}
        items={[
          { title: t('members.import.upload') },
          { title: t('members.import.map') },
          { title: t('members.import.check') },
          { title: t('members.import.commit') },
        ]}
      />
      {error && <Alert type="error" showIcon role="alert" message={error} style={{ marginBottom: 16 }} />}
      <Card title={t('members.import.upload')} style={{ marginBottom: 16 }}>
        <Typography.Paragraph type="secondary">{t('members.import.uploadHelp')}</Typography.Paragraph>
        <label className="ant-btn ant-btn-default" style={{ display: 'inline-flex', alignItems: 'center', gap: 8 }}>
          <InboxOutlined />
          {file ? file.name : t('members.import.choose')}
          <input
            type="file"
            accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            data-testid="import-file"
            style={{ position: 'absolute', opacity: 0, width: 1, height: 1 }}
            onChange={(e) => void choose(e.target.files?.[0])}
          />
        </label>
      </Card>
      {file && (
        <Card title={t('members.import.map')} style={{ marginBottom: 16 }}>
          {headers === undefined ? (
            <Alert type="info" showIcon message={t('members.import.noHeaders')} />
          ) : (
            <Table
              rowKey="header"
              size="small"
              pagination={false}
              scroll={{ x: 'max-content' }}
              dataSource={headers.map((h) => ({ header: h }))}
              columns={[
                { title: t('members.import.column'), dataIndex: 'header' },
                {
                  title: t('members.import.field'),
                  key: 'target',
                  render: (_: unknown, r: { header: string }) => (
                    <Select
                      style={{ minWidth: 200 }}
                      aria-label={t('members.import.fieldFor', { column: r.header })}
                      value={effective[r.header] ?? '-'}
                      onChange={(v: string) => setMapping((m) => ({ ...m, [r.header]: v }))}
                      options={[{ value: '-', label: t('members.import.skip') }, ...targets.map(({ value, label }) => ({ value, label }))]}
                    />
                  ),
                },
              ]}
            />
          )}
          <Button type="primary" style={{ marginTop: 16 }} loading={busy && !dryId} onClick={() => void run('dry_run')} data-testid="import-dry-run">
            {t('members.import.dryRun')}
          </Button>
        </Card>
      )}
      {dry.data && (
        <Card title={t('members.import.check')} style={{ marginBottom: 16 }}>
          <Report job={dry.data} />
          {dryDone && dry.data.status === 'done' && !commitId && (
            <Space direction="vertical" style={{ marginTop: 16 }}>
              <Radio.Group value={mode} onChange={(e) => setMode(e.target.value as Mode)}>
                <Space direction="vertical">
                  <Radio value="valid_only">{t('members.import.validOnly', { count: dry.data.rows_valid })}</Radio>
                  <Radio value="all_or_nothing">{t('members.import.allOrNothing')}</Radio>
                </Space>
              </Radio.Group>
              <Button type="primary" loading={busy} onClick={() => void run(mode)} data-testid="import-commit">
                {t('members.import.commitButton')}
              </Button>
            </Space>
          )}
        </Card>
      )}
      {commit.data && (
        <Card title={t('members.import.commit')}>
          {commit.data.status === 'running' ? (
            <Progress
              percent={dry.data?.rows_read ? Math.min(99, Math.round((commit.data.rows_read / dry.data.rows_read) * 100)) : undefined}
              status="active"
            />
          ) : (
            <Result
              status={commit.data.status === 'done' ? 'success' : 'error'}
              title={
                commit.data.status === 'done'
                  ? t('members.import.imported', { count: commit.data.rows_imported })
                  : t('members.import.failed')
              }
              subTitle={importFailureText(t, commit.data)}
            />
          )}
          <Report job={commit.data} />
        </Card>
      )}
    </>
  );
}

function Report({ job }: { job: ImportView }) {
  const { t } = useTranslation();
  return (
    <>
      {job.status === 'running' && <Progress percent={100} status="active" showInfo={false} />}
      {job.status === 'failed' && importFailureText(t, job) && (
        <Alert type="error" showIcon message={importFailureText(t, job)} style={{ marginBottom: 12 }} />
      )}
      <Descriptions size="small" column={{ xs: 1, sm: 2, lg: 4 }}>
        <Descriptions.Item label={t('members.import.rowsRead')}>{job.rows_read}</Descriptions.Item>
        <Descriptions.Item label={t('members.import.rowsValid')}>{job.rows_valid}</Descriptions.Item>
        <Descriptions.Item label={t('members.import.rowsImported')}>{job.rows_imported}</Descriptions.Item>
        <Descriptions.Item label={t('members.import.badRows')}>{job.error_count}</Descriptions.Item>
      </Descriptions>
      {job.errors.length > 0 && (
        <Table
          rowKey={(r) => `${r.row}-${r.column ?? ''}-${r.field}-${r.problem}`}
          size="small"
          scroll={{ x: 'max-content' }}
          dataSource={job.errors}
          pagination={{ pageSize: 20, hideOnSinglePage: true }}
          columns={[
            { title: t('members.import.row'), dataIndex: 'row' },
            { title: t('members.import.column'), dataIndex: 'column' },
            { title: t('members.import.field'), dataIndex: 'field' },
            {
              title: t('members.import.problem'),
              key: 'problem',
              render: (_, r) =>
                fieldProblemText(t, {
                  problem: r.problem,
                  code: r.code ?? undefined,
                  params: (r.params as Record<string, unknown> | null | undefined) ?? undefined,
                }),
            },
          ]}
        />
      )}
    </>
  );
}
