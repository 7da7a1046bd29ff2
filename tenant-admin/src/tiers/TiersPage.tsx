// The tier ladder: the editor (metric, window, retention, demotion, the rungs and their
// benefits), saving the draft, the preview (members per tier now and under the draft, and
// who would move), publishing with the re-evaluation's progress, and the versions; the
// optional tier script (with its compile errors at their line, and the members it failed
// for), and the tier history export.
import { useEffect, useMemo, useState } from 'react';
import {
  Alert,
  App,
  Button,
  Card,
  Col,
  ColorPicker,
  Form,
  Input,
  InputNumber,
  Modal,
  Popconfirm,
  Progress,
  Row,
  Select,
  Space,
  Table,
  Tag,
  Typography,
  type FormInstance,
} from 'antd';
import { ArrowDownOutlined, ArrowUpOutlined, DeleteOutlined, DownloadOutlined, PlusOutlined } from '@ant-design/icons';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, call, type Schemas } from '../api/client';
import { ApiProblem } from '../api/errors';
import { errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { useAuth } from '../auth/AuthContext';
import { currencyDigits } from '../points/reasons';
import { ScriptEditor } from '../rules/ScriptEditor';
import { failureText, type RuleFailure } from '../rules/diagnostics';
import { EChart } from './EChart';
import { tiersKeys } from './keys';
import {
  emptyForm,
  mapLadderErrors,
  multiplierText,
  nameIn,
  newTier,
  previewSeries,
  runPercent,
  toForm,
  toLadder,
  type LadderForm,
  type Metric,
} from './ladder';

type Overview = Schemas['TiersOverview'];
type Preview = Schemas['TierPreview'];
type Version = Schemas['LadderVersionView'];


export function TiersPage() {
  const { t, i18n } = useTranslation();
  const { me, can } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm<LadderForm>();
  const editable = can('tiers:write');
  const currency = me?.tenant.currency ?? 'CNY';
  const digits = currencyDigits(currency);
  const lang = i18n.language;
  const [loaded, setLoaded] = useState(false);
  const [preview, setPreview] = useState<Preview>();
  const [problem, setProblem] = useState<string>();
  const [publishing, setPublishing] = useState(false);

  const overview = useQuery({
    queryKey: tiersKeys.overview,
    queryFn: () => call(api.GET('/tiers')),
    refetchInterval: (q) => (q.state.data?.run?.status === 'running' ? 1000 : false),
  });
  const o = overview.data;

  useEffect(() => {
    if (!o || loaded) return;
    const ladder = o.draft?.ladder ?? o.active?.ladder;
    form.setFieldsValue(ladder ? toForm(ladder, digits) : emptyForm());
    setLoaded(true);
  }, [o, loaded, form, digits]);

  // When a re-evaluation finishes, the counts and versions change.
  const runStatus = o?.run?.status;
  useEffect(() => {
    if (runStatus === 'done') void qc.invalidateQueries({ queryKey: tiersKeys.versions });
  }, [runStatus, qc]);

  // The untyped view of the form: server paths name items by index.
  const untyped = form as FormInstance;
  /** Before each call: the last answer's problems go. */
  const clearErrors = () => {
    setProblem(undefined);
    untyped.setFields(
      untyped
        .getFieldsError()
        .filter((f) => f.errors.length)
        .map((f) => ({ name: f.name, errors: [] })),
    );
  };
  const showError = (err: unknown) => {
    if (err instanceof ApiProblem && err.fields.length) {
      const { fields, rest } = mapLadderErrors(err.fields);
      untyped.setFields(fields);
      setProblem(rest.length ? rest.join('; ') : t('tiers.editor.fixFields'));
    } else {
      setProblem(errorText(t, err));
    }
  };
  const ladder = () => toLadder(form.getFieldsValue(true) as LadderForm, digits);

  const save = useMutation({
    mutationFn: () => call(api.PUT('/tiers/draft', { body: ladder() })),
    onMutate: clearErrors,
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: tiersKeys.overview });
      void message.success(t('tiers.editor.saved'));
    },
    onError: showError,
  });
  const runPreview = useMutation({
    mutationFn: () => call(api.POST('/tiers/preview', { body: { ladder: ladder() } })),
    onMutate: clearErrors,
    onSuccess: setPreview,
    onError: showError,
  });
  const publish = useMutation({
    mutationFn: (note: string) => call(api.POST('/tiers/publish', { body: { ladder: ladder(), note } })),
    onMutate: clearErrors,
    onSuccess: (r) => {
      setPublishing(false);
      setPreview(undefined);
      void qc.invalidateQueries({ queryKey: tiersKeys.overview });
      void qc.invalidateQueries({ queryKey: tiersKeys.versions });
      void message.success(t('tiers.publish.done', { version: r.version.version }));
    },
    onError: (err) => {
      setPublishing(false);
      showError(err);
    },
  });

  return (
    <div data-testid="tiers-page">
      <div className="page-toolbar">
        <Typography.Title level={2} style={{ margin: 0 }}>
          {t('tiers.title')}
        </Typography.Title>
        {editable && (
          <Space wrap>
            <Button onClick={() => save.mutate()} loading={save.isPending} data-testid="tiers-save">
              {t('tiers.editor.save')}
            </Button>
            <Button onClick={() => runPreview.mutate()} loading={runPreview.isPending} data-testid="tiers-preview">
              {t('tiers.preview.run')}
            </Button>
            <Button type="primary" onClick={() => setPublishing(true)} data-testid="tiers-publish">
              {t('tiers.publish.open')}
            </Button>
          </Space>
        )}
      </div>
      {overview.isError && <Alert type="error" showIcon message={errorText(t, overview.error)} style={{ marginBottom: 16 }} />}
      <StatusCard overview={o} loading={overview.isPending} />
      {problem && (
        <Alert type="error" showIcon message={problem} closable onClose={() => setProblem(undefined)} style={{ marginBottom: 16 }} data-testid="tiers-problem" />
      )}
      {o?.draft && (
        <Typography.Paragraph type="secondary">
          {t('tiers.editor.draftSaved', { at: formatDateTime(o.draft.updated_at, lang, me?.tenant.time_zone), by: o.draft.updated_by })}
        </Typography.Paragraph>
      )}
      <Form<LadderForm> form={form} name="ladder" layout="vertical" disabled={!editable} initialValues={emptyForm()}>
        <LadderSettings currency={currency} />
        <TierList currency={currency} />
        <ScriptCard editable={editable} />
      </Form>
      {preview && <PreviewCard preview={preview} />}
      {can('reports:read') && <ExportCard />}
      <VersionsCard />
      {publishing && (
        <PublishModal
          loading={publish.isPending}
          onCancel={() => setPublishing(false)}
          onPublish={(note) => publish.mutate(note)}
        />
      )}
    </div>
  );
}

/** The ladder in force, members per tier, and the latest re-evaluation. */
function StatusCard({ overview, loading }: { overview: Overview | undefined; loading: boolean }) {
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

/** The optional script that decides the tier, compiled by the server as it is typed. */
function ScriptCard({ editable }: { editable: boolean }) {
  const { t } = useTranslation();
  const script = (Form.useWatch('script') as string | undefined) ?? '';
  const [error, setError] = useState<RuleFailure>();
  const check = async (text: string) => {
    const { data } = await api.POST('/tiers/script/check', { body: { script: text } });
    if (!data) throw new Error('not checked');
    return data.error;
  };
  return (
    <Card size="small" title={t('tiers.script.title')} style={{ marginBottom: 16 }} data-testid="tiers-script">
      <Typography.Paragraph type="secondary">{t('tiers.script.explain')}</Typography.Paragraph>
      {/* The item gives the editor its value and shows the server's `script` problems. */}
      <Form.Item name="script" style={{ marginBottom: 0 }}>
        <ScriptEditor
          value={script}
          onChange={() => undefined}
          readOnly={!editable}
          validate={editable}
          onValidated={setError}
          check={check}
          label={t('tiers.script.label')}
          testId="tiers-script-editor"
        />
      </Form.Item>
      {script.trim() && (
        <div style={{ marginTop: 8 }} data-testid="tiers-script-status">
          {error ? (
            <Typography.Text type="danger">{scriptErrorText(t, error)}</Typography.Text>
          ) : (
            <Typography.Text type="success">{t('tiers.script.compiles')}</Typography.Text>
          )}
        </div>
      )}
    </Card>
  );
}

function scriptErrorText(t: (key: string, o?: Record<string, unknown>) => string, e: RuleFailure): string {
  return e.line && e.column
    ? t('tiers.script.error', { line: e.line, column: e.column, message: e.message })
    : t('tiers.script.errorNoPlace', { message: e.message });
}

/** Tier history as CSV or Excel: everyone's or one member's, between two days. */
function ExportCard() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [memberId, setMemberId] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [exporting, setExporting] = useState<'csv' | 'xlsx'>();
  async function exportAs(format: 'csv' | 'xlsx') {
    setExporting(format);
    try {
      const query = {
        ...(memberId.trim() ? { member_id: memberId.trim() } : {}),
        ...(from ? { from } : {}),
        ...(to ? { to } : {}),
      };
      const { data, error, response } =
        format === 'csv'
          ? await api.GET('/tiers/history/export.csv', { params: { query }, parseAs: 'blob' })
          : await api.GET('/tiers/history/export.xlsx', { params: { query }, parseAs: 'blob' });
      if (error !== undefined || !response.ok || !data) throw ApiProblem.from(response.status, error as never);
      const url = URL.createObjectURL(data as Blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = `tier-history.${format}`;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      void message.error(errorText(t, err));
    } finally {
      setExporting(undefined);
    }
  }
  return (
    <Card size="small" title={t('tiers.export.title')} style={{ marginBottom: 16 }} data-testid="tiers-export">
      <Space wrap>
        <Input
          placeholder={t('tiers.export.member')}
          aria-label={t('tiers.export.member')}
          value={memberId}
          onChange={(e) => setMemberId(e.target.value)}
          style={{ width: 320 }}
        />
        <Input type="date" aria-label={t('tiers.export.from')} value={from} onChange={(e) => setFrom(e.target.value)} />
        <Input type="date" aria-label={t('tiers.export.to')} value={to} onChange={(e) => setTo(e.target.value)} />
        <Button icon={<DownloadOutlined />} loading={exporting === 'csv'} onClick={() => void exportAs('csv')} data-testid="tiers-export-csv">
          {t('tiers.export.csv')}
        </Button>
        <Button icon={<DownloadOutlined />} loading={exporting === 'xlsx'} onClick={() => void exportAs('xlsx')} data-testid="tiers-export-xlsx">
          {t('tiers.export.xlsx')}
        </Button>
      </Space>
    </Card>
  );
}

function LadderSettings({ currency }: { currency: string }) {
  const { t } = useTranslation();
  const kind = Form.useWatch('window_kind');
  const metric = Form.useWatch('metric') as Metric | undefined;
  return (
    <Card size="small" title={t('tiers.editor.rules')} style={{ marginBottom: 16 }}>
      <Row gutter={16}>
        <Col xs={24} md={8}>
          <Form.Item name="metric" label={t('tiers.editor.metric')} extra={metric === 'spend' ? t('tiers.editor.spendIn', { currency }) : undefined}>
            <Select
              data-testid="tiers-metric"
              options={(['points_earned', 'spend', 'visits'] as const).map((m) => ({ value: m, label: t(`tiers.metric.${m}`) }))}
            />
          </Form.Item>
        </Col>
        <Col xs={24} md={8}>
          <Form.Item name="window_kind" label={t('tiers.editor.window')}>
            <Select
              options={(['rolling', 'calendar_year', 'since_joining'] as const).map((k) => ({ value: k, label: t(`tiers.window.${k}`) }))}
            />
          </Form.Item>
        </Col>
        {kind === 'rolling' && (
          <Col xs={24} md={8}>
            <Form.Item name="window_days" label={t('tiers.editor.windowDays')}>
              <InputNumber min={1} max={3660} style={{ width: '100%' }} addonAfter={t('tiers.editor.days')} />
            </Form.Item>
          </Col>
        )}
        <Col xs={24} md={8}>
          <Form.Item name="retention_days" label={t('tiers.editor.retention')} extra={t('tiers.editor.retentionHelp')}>
            <InputNumber min={0} max={3660} style={{ width: '100%' }} addonAfter={t('tiers.editor.days')} />
          </Form.Item>
        </Col>
        <Col xs={24} md={8}>
          <Form.Item name="demotion" label={t('tiers.editor.demotion')}>
            <Select
              options={(['one_rung', 'direct'] as const).map((d) => ({ value: d, label: t(`tiers.demotion.${d}`) }))}
            />
          </Form.Item>
        </Col>
      </Row>
    </Card>
  );
}

function TierList({ currency }: { currency: string }) {
  const { t } = useTranslation();
  const form = Form.useFormInstance<LadderForm>();
  const metric = (Form.useWatch('metric') as Metric | undefined) ?? 'points_earned';
  return (
    <Form.List name="tiers">
      {(fields, { add, remove, move }) => (
        <>
          {fields.map((field, index) => (
            <Card
              key={field.key}
              size="small"
              style={{ marginBottom: 16 }}
              data-testid={`tier-${index}`}
              title={<TierTitle index={index} />}
              extra={
                <Space>
                  <Button
                    size="small"
                    icon={<ArrowUpOutlined />}
                    aria-label={t('tiers.editor.up')}
                    disabled={index === 0}
                    onClick={() => move(index, index - 1)}
                  />
                  <Button
                    size="small"
                    icon={<ArrowDownOutlined />}
                    aria-label={t('tiers.editor.down')}
                    disabled={index === fields.length - 1}
                    onClick={() => move(index, index + 1)}
                  />
                  <Button
                    size="small"
                    danger
                    icon={<DeleteOutlined />}
                    aria-label={t('tiers.editor.remove')}
                    data-testid={`tier-${index}-remove`}
                    disabled={fields.length <= 1}
                    onClick={() => remove(index)}
                  />
                </Space>
              }
            >
              <Row gutter={16}>
                <Col xs={24} sm={12} md={6}>
                  <Form.Item name={[field.name, 'code']} label={t('tiers.tier.code')} rules={[{ required: true, message: t('tiers.tier.codeRequired') }]}>
                    <Input placeholder="gold" data-testid={`tier-${index}-code`} />
                  </Form.Item>
                </Col>
                <Col xs={24} sm={12} md={6}>
                  <Form.Item name={[field.name, 'name_zh']} label={t('tiers.tier.nameZh')}>
                    <Input placeholder="金卡" data-testid={`tier-${index}-name-zh`} />
                  </Form.Item>
                </Col>
                <Col xs={24} sm={12} md={6}>
                  <Form.Item name={[field.name, 'name_en']} label={t('tiers.tier.nameEn')}>
                    <Input placeholder="Gold" data-testid={`tier-${index}-name-en`} />
                  </Form.Item>
                </Col>
                <Col xs={24} sm={12} md={6}>
                  <Form.Item
                    name={[field.name, 'color']}
                    label={t('tiers.tier.color')}
                    getValueFromEvent={(c: { toHexString: () => string }) => c.toHexString()}
                  >
                    <ColorPicker showText disabledAlpha />
                  </Form.Item>
                </Col>
                <Col xs={24} sm={12} md={6}>
                  <Form.Item
                    name={[field.name, 'threshold']}
                    label={t(`tiers.tier.threshold.${metric}`, { currency })}
                    extra={index === 0 ? t('tiers.tier.firstThreshold') : undefined}
                  >
                    <InputNumber min={0} style={{ width: '100%' }} disabled={index === 0} data-testid={`tier-${index}-threshold`} />
                  </Form.Item>
                </Col>
                <Col xs={24} sm={12} md={6}>
                  <Form.Item name={[field.name, 'multiplier']} label={t('tiers.tier.multiplier')}>
                    <InputNumber min={0} max={100} step={0.1} precision={3} style={{ width: '100%' }} addonBefore="×" data-testid={`tier-${index}-multiplier`} />
                  </Form.Item>
                </Col>
                <Col xs={24} sm={12} md={6}>
                  <Form.Item name={[field.name, 'discount_percent']} label={t('tiers.tier.discount')}>
                    <InputNumber min={0} max={100} precision={0} style={{ width: '100%' }} addonAfter="%" />
                  </Form.Item>
                </Col>
                <Col xs={24} sm={12} md={6}>
                  <Form.Item name={[field.name, 'birthday_gift_points']} label={t('tiers.tier.birthday')}>
                    <InputNumber min={0} precision={0} style={{ width: '100%' }} />
                  </Form.Item>
                </Col>
              </Row>
              <Typography.Text strong>{t('tiers.tier.perks')}</Typography.Text>
              <Form.List name={[field.name, 'perks']}>
                {(perks, perkOps) => (
                  <>
                    {perks.map((perk) => (
                      <Row gutter={8} key={perk.key} align="top" style={{ marginTop: 8 }}>
                        <Col xs={24} sm={11}>
                          <Form.Item name={[perk.name, 'zh']} style={{ marginBottom: 8 }}>
                            <Input placeholder={t('tiers.tier.perkZh')} aria-label={t('tiers.tier.perkZh')} />
                          </Form.Item>
                        </Col>
                        <Col xs={20} sm={11}>
                          <Form.Item name={[perk.name, 'en']} style={{ marginBottom: 8 }}>
                            <Input placeholder={t('tiers.tier.perkEn')} aria-label={t('tiers.tier.perkEn')} />
                          </Form.Item>
                        </Col>
                        <Col xs={4} sm={2}>
                          <Button icon={<DeleteOutlined />} aria-label={t('tiers.tier.removePerk')} onClick={() => perkOps.remove(perk.name)} />
                        </Col>
                      </Row>
                    ))}
                    <div style={{ marginTop: 8 }}>
                      <Button size="small" icon={<PlusOutlined />} onClick={() => perkOps.add({ zh: '', en: '' })}>
                        {t('tiers.tier.addPerk')}
                      </Button>
                    </div>
                  </>
                )}
              </Form.List>
            </Card>
          ))}
          <Button
            type="dashed"
            block
            icon={<PlusOutlined />}
            style={{ marginBottom: 16 }}
            data-testid="tiers-add"
            onClick={() => {
              const tiers = (form.getFieldValue('tiers') as LadderForm['tiers'] | undefined) ?? [];
              add(newTier(tiers.length, tiers[tiers.length - 1]));
            }}
          >
            {t('tiers.editor.add')}
          </Button>
        </>
      )}
    </Form.List>
  );
}

/** A rung's heading: its colour, names and the multiplier, as typed. */
function TierTitle({ index }: { index: number }) {
  const { t, i18n } = useTranslation();
  const tier = Form.useWatch(['tiers', index]) as LadderForm['tiers'][number] | undefined;
  const name = i18n.language.startsWith('zh') ? tier?.name_zh || tier?.name_en : tier?.name_en || tier?.name_zh;
  const mult = tier?.multiplier ?? 1;
  return (
    <Space>
      <span
        aria-hidden
        style={{ display: 'inline-block', width: 14, height: 14, borderRadius: 7, background: tier?.color ?? '#8c8c8c' }}
      />
      <span>{t('tiers.editor.rung', { n: index + 1 })}</span>
      {name && <Typography.Text strong>{name}</Typography.Text>}
      <Tag>{multiplierText(Math.round(mult * 1000))}</Tag>
    </Space>
  );
}

function PreviewCard({ preview }: { preview: Preview }) {
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

function PublishModal(props: { loading: boolean; onCancel: () => void; onPublish: (note: string) => void }) {
  const { t } = useTranslation();
  const [note, setNote] = useState('');
  return (
    <Modal
      open
      title={t('tiers.publish.title')}
      okText={t('tiers.publish.confirm')}
      onOk={() => props.onPublish(note.trim())}
      onCancel={props.onCancel}
      confirmLoading={props.loading}
      okButtonProps={{ 'data-testid': 'tiers-publish-confirm' } as Record<string, string>}
    >
      <Typography.Paragraph>{t('tiers.publish.explain')}</Typography.Paragraph>
      <Input.TextArea
        value={note}
        maxLength={500}
        rows={3}
        placeholder={t('tiers.publish.note')}
        aria-label={t('tiers.publish.note')}
        onChange={(e) => setNote(e.target.value)}
      />
    </Modal>
  );
}

function VersionsCard() {
  const { t, i18n } = useTranslation();
  const { me, can } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const versions = useQuery({ queryKey: tiersKeys.versions, queryFn: () => call(api.GET('/tiers/versions')) });
  const rollback = useMutation({
    mutationFn: (version: number) => call(api.POST('/tiers/rollback', { body: { version } })),
    onSuccess: (r) => {
      void qc.invalidateQueries({ queryKey: tiersKeys.overview });
      void qc.invalidateQueries({ queryKey: tiersKeys.versions });
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
                <Tag key={tier.code} color={tier.color}>
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
          { title: t('tiers.versions.by'), dataIndex: 'published_by' },
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
