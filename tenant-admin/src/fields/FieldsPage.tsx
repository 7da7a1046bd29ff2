import { Component, useMemo, useState, type ReactNode } from 'react';
import {
  Alert,
  App,
  Button,
  Card,
  Empty,
  Input,
  InputNumber,
  List,
  Modal,
  Radio,
  Result,
  Segmented,
  Select,
  Space,
  Spin,
  Switch,
  Tag,
  Typography,
} from 'antd';
import { ArrowDownOutlined, ArrowUpOutlined, DeleteOutlined, PlusOutlined, UndoOutlined } from '@ant-design/icons';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, call, type Schemas } from '../api/client';
import { ApiProblem } from '../api/errors';
import { errorText } from '../common/forms';
import { useAuth } from '../auth/AuthContext';
import { CustomForm } from './CustomForm';
import { useFields } from './queries';
import {
  compileJsonSchema,
  compileUiSchema,
  FIELD_TYPES,
  fromDtos,
  isNumber,
  isSelect,
  isText,
  localProblems,
  move,
  newField,
  serverProblems,
  setType,
  toDtos,
  type DraftField,
  type FieldDto,
  type FieldType,
  type Lang,
} from './schema';
import '../members/members.css';

type DraftCheck = Schemas['DraftCheck'];
type Report = Schemas['ChangeReport'];

/** The member field designer: edit the list, see the form members get, check, publish. */
export function FieldsPage() {
  const { t } = useTranslation();
  const fields = useFields();
  if (fields.isPending) return <Spin style={{ display: 'block', margin: 64 }} />;
  if (fields.isError) return <Result status="error" title={errorText(t, fields.error)} />;
  // A new published version (from here or elsewhere) becomes the starting point.
  return <Designer key={fields.data.version} published={fields.data.fields} archived={fields.data.archived} version={fields.data.version} />;
}

function Designer({ published, archived, version }: { published: FieldDto[]; archived: FieldDto[]; version: number }) {
  const { t, i18n } = useTranslation();
  const { can } = useAuth();
  const qc = useQueryClient();
  const { message } = App.useApp();
  const [draft, setDraft] = useState<DraftField[]>(() => fromDtos(published));
  const [selected, setSelected] = useState<string | undefined>(draft[0]?.uid);
  const [newType, setNewType] = useState<FieldType>('text');
  const [previewLang, setPreviewLang] = useState<Lang>(i18n.language === 'en' ? 'en' : 'zh-CN');
  const [preview, setPreview] = useState<Record<string, unknown>>({});
  const [check, setCheck] = useState<DraftCheck>();
  const [serverErr, setServerErr] = useState<string>();
  const [publishing, setPublishing] = useState<Report>();
  const manage = can('fields:manage');

  const dtos = useMemo(() => toDtos(draft), [draft]);
  const dirty = JSON.stringify(dtos) !== JSON.stringify(toDtos(fromDtos(published)));
  const local = useMemo(() => localProblems(draft), [draft]);
  const server = useMemo(() => serverProblems(check?.errors ?? [], draft), [check, draft]);
  const jsonSchema = useMemo(() => compileJsonSchema(dtos), [dtos]);
  const uiSchema = useMemo(() => compileUiSchema(dtos), [dtos]);

  const update = (uid: string, fn: (f: DraftField) => DraftField) => {
    setDraft((d) => d.map((f) => (f.uid === uid ? fn(f) : f)));
    setCheck(undefined);
  };

  const validate = useMutation({
    mutationFn: () => call(api.POST('/fields/validate', { body: { fields: dtos, on_conflict: 'refuse', defaults: {} } })),
    onSuccess: (c) => {
      setCheck(c);
      setServerErr(undefined);
    },
    onError: (err) => setServerErr(errorText(t, err)),
  });

  const publish = useMutation({
    mutationFn: (v: { on_conflict: Schemas['OnConflict']; defaults: Record<string, unknown> }) =>
      call(api.POST('/fields/versions', { body: { fields: dtos, ...v } })),
    onSuccess: (view) => {
      qc.setQueryData(['fields'], view);
      void qc.invalidateQueries({ queryKey: ['members'] });
      setPublishing(undefined);
      void message.success(t('fields.published', { version: view.version }));
    },
    onError: async (err) => {
      if (err instanceof ApiProblem && err.code === 'field_change_conflict') {
        // The report: which members and fields; ask how to resolve it.
        const c = await call(api.POST('/fields/validate', { body: { fields: dtos, on_conflict: 'refuse', defaults: {} } })).catch(() => undefined);
        setCheck(c);
        if (c?.impact) setPublishing(c.impact);
        return;
      }
      if (err instanceof ApiProblem && err.fields.length) {
        setCheck({ valid: false, errors: err.fields });
      }
      setServerErr(errorText(t, err));
    },
  });

  async function startPublish() {
    setServerErr(undefined);
    try {
      const c = await validate.mutateAsync();
      if (!c.valid) return;
      if (c.impact && c.impact.affected_members > 0) setPublishing(c.impact);
      else publish.mutate({ on_conflict: 'refuse', defaults: {} });
    } catch {
      // Shown by the mutation.
    }
  }

  const selectedField = draft.find((f) => f.uid === selected);
  const blocked = local.size > 0;

  return (
    <>
      <div className="page-toolbar">
        <div>
          <Typography.Title level={2}>{t('fields.title')}</Typography.Title>
          <Typography.Text type="secondary">
            {version > 0 ? t('fields.version', { version }) : t('fields.noVersion')}
            {dirty && <Tag color="orange" style={{ marginLeft: 8 }}>{t('fields.unsaved')}</Tag>}
          </Typography.Text>
        </div>
        {manage && (
          <Space wrap>
            <Button onClick={() => { setDraft(fromDtos(published)); setCheck(undefined); }} disabled={!dirty} icon={<UndoOutlined />}>
              {t('fields.discard')}
            </Button>
            <Button onClick={() => validate.mutate()} loading={validate.isPending && !publish.isPending} disabled={blocked} data-testid="fields-validate">
              {t('fields.validate')}
            </Button>
            <Button type="primary" onClick={() => void startPublish()} loading={publish.isPending} disabled={!dirty || blocked} data-testid="fields-publish">
              {t('fields.publish')}
            </Button>
          </Space>
        )}
      </div>
      {serverErr && <Alert type="error" showIcon role="alert" message={serverErr} style={{ marginBottom: 16 }} />}
      {check && <CheckSummary check={check} rest={server.rest} />}
      <div className="designer">
        <div>
          {draft.length === 0 && <Empty description={t('fields.empty')} style={{ marginBottom: 16 }} />}
          {draft.map((f, i) => (
            <Card
              key={f.uid}
              size="small"
              className={`designer-field${f.uid === selected ? ' selected' : ''}`}
              data-testid={`designer-field-${i}`}
              title={
                <button type="button" className="designer-field-title" onClick={() => setSelected(f.uid === selected ? undefined : f.uid)} aria-expanded={f.uid === selected}>
                  <span>{f.label[previewLang] || f.label['zh-CN'] || f.label.en || t('fields.untitled')}</span>{' '}
                  <Typography.Text type="secondary" code>{f.key}</Typography.Text>{' '}
                  <Tag>{t(`fields.types.${f.type}`)}</Tag>
                  {f.required && <Tag color="red">{t('fields.required')}</Tag>}
                  {(local.has(f.uid) || server.byField.has(f.uid)) && <Tag color="error">{t('fields.hasProblems')}</Tag>}
                </button>
              }
              extra={
                manage && (
                  <Space size={0}>
                    <Button type="text" size="small" icon={<ArrowUpOutlined />} disabled={i === 0} aria-label={t('fields.moveUp')} onClick={() => setDraft((d) => move(d, i, i - 1))} />
                    <Button type="text" size="small" icon={<ArrowDownOutlined />} disabled={i === draft.length - 1} aria-label={t('fields.moveDown')} onClick={() => setDraft((d) => move(d, i, i + 1))} />
                    <Button type="text" size="small" danger icon={<DeleteOutlined />} aria-label={t('fields.remove')} onClick={() => { setDraft((d) => d.filter((x) => x.uid !== f.uid)); setCheck(undefined); }} />
                  </Space>
                )
              }
            >
              {f.uid === selected && selectedField && (
                <FieldEditor
                  field={selectedField}
                  index={i}
                  disabled={!manage}
                  problems={[...(local.get(f.uid) ?? []).map((p) => t(`fields.problems.${p}`)), ...(server.byField.get(f.uid) ?? [])]}
                  onChange={(fn) => update(f.uid, fn)}
                />
              )}
            </Card>
          ))}
          {manage && (
            <Space wrap style={{ marginBottom: 16 }}>
              <Select<FieldType>
                value={newType}
                onChange={setNewType}
                style={{ minWidth: 160 }}
                aria-label={t('fields.newType')}
                id="designer_new_type"
                showSearch
                optionFilterProp="label"
                options={FIELD_TYPES.map((ty) => ({ value: ty, label: t(`fields.types.${ty}`) }))}
              />
              <Button
                icon={<PlusOutlined />}
                data-testid="designer-add"
                onClick={() => {
                  const f = newField(newType, [...draft.map((d) => d.key), ...archived.map((a) => a.key)]);
                  setDraft((d) => [...d, f]);
                  setSelected(f.uid);
                  setCheck(undefined);
                }}
              >
                {t('fields.add')}
              </Button>
            </Space>
          )}
          {archived.length > 0 && (
            <Card size="small" title={t('fields.archived')} style={{ marginBottom: 16 }}>
              <Typography.Paragraph type="secondary">{t('fields.archivedHelp')}</Typography.Paragraph>
              <List
                size="small"
                dataSource={archived.filter((a) => !draft.some((d) => d.key === a.key))}
                renderItem={(a) => (
                  <List.Item
                    actions={
                      manage
                        ? [
                            <Button key="restore" size="small" onClick={() => setDraft((d) => [...d, ...fromDtos([{ ...a, archived: false }])])}>
                              {t('fields.restore')}
                            </Button>,
                          ]
                        : []
                    }
                  >
                    {a.label[previewLang] || a.label['zh-CN'] || a.label.en} <Typography.Text code>{a.key}</Typography.Text>
                  </List.Item>
                )}
              />
            </Card>
          )}
        </div>
        <Card
          size="small"
          title={t('fields.preview')}
          extra={
            <Segmented<Lang>
              size="small"
              value={previewLang}
              onChange={setPreviewLang}
              options={[
                { value: 'zh-CN', label: '中文' },
                { value: 'en', label: 'EN' },
              ]}
            />
          }
          data-testid="designer-preview"
        >
          <Typography.Paragraph type="secondary">{t('fields.previewHelp')}</Typography.Paragraph>
          {dtos.length === 0 ? (
            <Empty description={t('fields.empty')} />
          ) : (
            <PreviewBoundary key={JSON.stringify(jsonSchema)}>
              <CustomForm jsonSchema={jsonSchema} uiSchema={uiSchema} value={preview} onChange={setPreview} lang={previewLang} idPrefix="preview" />
            </PreviewBoundary>
          )}
          <Typography.Paragraph type="secondary" style={{ marginTop: 8 }}>
            {t('fields.memberEditableNote', { count: dtos.filter((d) => d.member_editable).length })}{' '}
            <Link to="/members/new">{t('fields.tryCounter')}</Link>
          </Typography.Paragraph>
        </Card>
      </div>
      {publishing && (
        <ConflictModal
          report={publishing}
          draft={dtos}
          busy={publish.isPending}
          onCancel={() => setPublishing(undefined)}
          onPublish={(v) => publish.mutate(v)}
        />
      )}
    </>
  );
}

/** Keeps a half-typed draft (e.g. a broken pattern) from taking the page down. */
class PreviewBoundary extends Component<{ children: ReactNode }, { failed: boolean }> {
  state = { failed: false };
  static getDerivedStateFromError() {
    return { failed: true };
  }
  render() {
    return this.state.failed ? <PreviewFailed /> : this.props.children;
  }
}
function PreviewFailed() {
  const { t } = useTranslation();
  return <Alert type="warning" showIcon message={t('fields.previewFailed')} />;
}

function Labeled({ id, label, children, extra }: { id: string; label: string; children: ReactNode; extra?: ReactNode }) {
  return (
    <div className="designer-item">
      <label htmlFor={id}>{label}</label>
      {children}
      {extra && <div className="designer-extra">{extra}</div>}
    </div>
  );
}

function FieldEditor({
  field: f,
  index: i,
  disabled,
  problems,
  onChange,
}: {
  field: DraftField;
  index: number;
  disabled: boolean;
  problems: string[];
  onChange: (fn: (f: DraftField) => DraftField) => void;
}) {
  const { t } = useTranslation();
  const id = (s: string) => `designer_${i}_${s}`;
  const num = (v: number | string | null) => (v === null || v === '' ? undefined : Number(v));
  return (
    <div className="designer-editor">
      {problems.length > 0 && <Alert type="error" showIcon role="alert" message={problems.join('; ')} style={{ marginBottom: 12 }} />}
      <div className="designer-grid">
        <Labeled id={id('label_zh')} label={t('fields.labelZh')}>
          <Input id={id('label_zh')} value={f.label['zh-CN']} disabled={disabled} maxLength={100} onChange={(e) => onChange((x) => ({ ...x, label: { ...x.label, 'zh-CN': e.target.value } }))} />
        </Labeled>
        <Labeled id={id('label_en')} label={t('fields.labelEn')}>
          <Input id={id('label_en')} value={f.label.en} disabled={disabled} maxLength={100} onChange={(e) => onChange((x) => ({ ...x, label: { ...x.label, en: e.target.value } }))} />
        </Labeled>
        <Labeled id={id('key')} label={t('fields.key')} extra={f.isNew ? t('fields.keyHelp') : t('fields.keyFixed')}>
          <Input id={id('key')} value={f.key} disabled={disabled || !f.isNew} maxLength={40} onChange={(e) => onChange((x) => ({ ...x, key: e.target.value }))} />
        </Labeled>
        <Labeled id={id('type')} label={t('fields.type')}>
          <Select<FieldType>
            id={id('type')}
            value={f.type}
            disabled={disabled}
            style={{ width: '100%' }}
            showSearch
            optionFilterProp="label"
            onChange={(ty) => onChange((x) => setType(x, ty))}
            options={FIELD_TYPES.map((ty) => ({ value: ty, label: t(`fields.types.${ty}`) }))}
          />
        </Labeled>
      </div>
      <Space wrap size="large" style={{ margin: '8px 0 12px' }}>
        <label>
          <Switch size="small" checked={f.required} disabled={disabled} onChange={(v) => onChange((x) => ({ ...x, required: v }))} id={id('required')} /> {t('fields.required')}
        </label>
        <label>
          <Switch size="small" checked={f.member_editable} disabled={disabled} onChange={(v) => onChange((x) => ({ ...x, member_editable: v }))} id={id('member_editable')} />{' '}
          {t('fields.memberEditable')}
        </label>
      </Space>
      {isNumber(f.type) && (
        <div className="designer-grid">
          <Labeled id={id('minimum')} label={t('fields.minimum')}>
            <InputNumber id={id('minimum')} style={{ width: '100%' }} value={f.minimum} disabled={disabled} onChange={(v) => onChange((x) => ({ ...x, minimum: num(v) }))} />
          </Labeled>
          <Labeled id={id('maximum')} label={t('fields.maximum')}>
            <InputNumber id={id('maximum')} style={{ width: '100%' }} value={f.maximum} disabled={disabled} onChange={(v) => onChange((x) => ({ ...x, maximum: num(v) }))} />
          </Labeled>
        </div>
      )}
      {isText(f.type) && (
        <div className="designer-grid">
          <Labeled id={id('min_length')} label={t('fields.minLength')}>
            <InputNumber id={id('min_length')} min={0} precision={0} style={{ width: '100%' }} value={f.min_length} disabled={disabled} onChange={(v) => onChange((x) => ({ ...x, min_length: num(v) }))} />
          </Labeled>
          <Labeled id={id('max_length')} label={t('fields.maxLength')}>
            <InputNumber id={id('max_length')} min={1} max={20000} precision={0} style={{ width: '100%' }} value={f.max_length} disabled={disabled} onChange={(v) => onChange((x) => ({ ...x, max_length: num(v) }))} />
          </Labeled>
          <Labeled id={id('pattern')} label={t('fields.pattern')} extra={t('fields.patternHelp')}>
            <Input id={id('pattern')} value={f.pattern ?? ''} disabled={disabled} maxLength={500} onChange={(e) => onChange((x) => ({ ...x, pattern: e.target.value || undefined }))} />
          </Labeled>
        </div>
      )}
      {isSelect(f.type) && (
        <div className="designer-options">
          <Typography.Text strong>{t('fields.options')}</Typography.Text>
          {f.options.map((o, j) => (
            <div key={j} className="designer-option">
              <Input aria-label={t('fields.optionValue')} placeholder={t('fields.optionValue')} value={o.value} disabled={disabled} onChange={(e) => onChange((x) => ({ ...x, options: x.options.map((p, k) => (k === j ? { ...p, value: e.target.value } : p)) }))} />
              <Input aria-label={t('fields.labelZh')} placeholder={t('fields.labelZh')} value={o.label['zh-CN']} disabled={disabled} onChange={(e) => onChange((x) => ({ ...x, options: x.options.map((p, k) => (k === j ? { ...p, label: { ...p.label, 'zh-CN': e.target.value } } : p)) }))} />
              <Input aria-label={t('fields.labelEn')} placeholder={t('fields.labelEn')} value={o.label.en} disabled={disabled} onChange={(e) => onChange((x) => ({ ...x, options: x.options.map((p, k) => (k === j ? { ...p, label: { ...p.label, en: e.target.value } } : p)) }))} />
              <Button type="text" danger icon={<DeleteOutlined />} disabled={disabled} aria-label={t('fields.removeOption')} onClick={() => onChange((x) => ({ ...x, options: x.options.filter((_, k) => k !== j) }))} />
            </div>
          ))}
          <Button size="small" icon={<PlusOutlined />} disabled={disabled} onClick={() => onChange((x) => ({ ...x, options: [...x.options, { value: `option_${x.options.length + 1}`, label: { 'zh-CN': '', en: '' } }] }))}>
            {t('fields.addOption')}
          </Button>
        </div>
      )}
      <div className="designer-grid">
        <Labeled id={id('help_zh')} label={t('fields.helpZh')}>
          <Input id={id('help_zh')} value={f.help['zh-CN']} disabled={disabled} maxLength={200} onChange={(e) => onChange((x) => ({ ...x, help: { ...x.help, 'zh-CN': e.target.value } }))} />
        </Labeled>
        <Labeled id={id('help_en')} label={t('fields.helpEn')}>
          <Input id={id('help_en')} value={f.help.en} disabled={disabled} maxLength={200} onChange={(e) => onChange((x) => ({ ...x, help: { ...x.help, en: e.target.value } }))} />
        </Labeled>
      </div>
    </div>
  );
}

function CheckSummary({ check, rest }: { check: DraftCheck; rest: string[] }) {
  const { t } = useTranslation();
  if (!check.valid) {
    return <Alert type="error" showIcon style={{ marginBottom: 16 }} message={t('fields.invalid')} description={rest.length ? rest.join('; ') : undefined} data-testid="fields-check" />;
  }
  const impact = check.impact;
  if (!impact || impact.affected_members === 0) {
    return <Alert type="success" showIcon style={{ marginBottom: 16 }} message={t('fields.valid')} data-testid="fields-check" />;
  }
  return (
    <Alert
      type="warning"
      showIcon
      style={{ marginBottom: 16 }}
      data-testid="fields-check"
      message={t('fields.impact', { count: impact.affected_members })}
      description={<ImpactDetail report={impact} />}
    />
  );
}

function ImpactDetail({ report }: { report: Report }) {
  const { t } = useTranslation();
  return (
    <>
      <ul style={{ margin: 0, paddingLeft: 20 }}>
        {Object.entries(report.by_field).map(([k, n]) => (
          <li key={k}>{t('fields.impactField', { field: k, count: n })}</li>
        ))}
        {report.fields.map((p) => (
          <li key={`${p.field}-${p.problem}`}>
            <Typography.Text code>{p.field}</Typography.Text> {p.problem}
          </li>
        ))}
      </ul>
      {report.member_ids.length > 0 && (
        <div style={{ marginTop: 8 }}>
          {t('fields.impactMembers')}{' '}
          {report.member_ids.slice(0, 20).map((id) => (
            <Link key={id} to={`/members/${id}`} style={{ marginRight: 8 }}>
              {id.slice(0, 8)}
            </Link>
          ))}
        </div>
      )}
    </>
  );
}

function ConflictModal({
  report,
  draft,
  busy,
  onCancel,
  onPublish,
}: {
  report: Report;
  draft: FieldDto[];
  busy: boolean;
  onCancel: () => void;
  onPublish: (v: { on_conflict: Schemas['OnConflict']; defaults: Record<string, unknown> }) => void;
}) {
  const { t, i18n } = useTranslation();
  const [choice, setChoice] = useState<'defaults' | 'new_writes_only'>('defaults');
  const keys = Object.keys(report.by_field);
  const [defaults, setDefaults] = useState<Record<string, unknown>>({});
  const missing = choice === 'defaults' && keys.some((k) => defaults[k] === undefined || defaults[k] === '');
  return (
    <Modal
      open
      title={t('fields.conflictTitle', { count: report.affected_members })}
      onCancel={onCancel}
      okText={t('fields.publish')}
      cancelText={t('common.cancel')}
      okButtonProps={{ disabled: missing, loading: busy }}
      onOk={() => onPublish(choice === 'defaults' ? { on_conflict: 'refuse', defaults } : { on_conflict: 'new_writes_only', defaults: {} })}
    >
      <ImpactDetail report={report} />
      <Radio.Group value={choice} onChange={(e) => setChoice(e.target.value as typeof choice)} style={{ marginTop: 16 }}>
        <Space direction="vertical">
          <Radio value="defaults">{t('fields.useDefaults')}</Radio>
          <Radio value="new_writes_only">{t('fields.newWritesOnly')}</Radio>
        </Space>
      </Radio.Group>
      {choice === 'defaults' &&
        keys.map((k) => {
          const f = draft.find((d) => d.key === k);
          const label = f ? (i18n.language === 'en' ? f.label.en || f.label['zh-CN'] : f.label['zh-CN'] || f.label.en) : k;
          return (
            <div key={k} className="designer-item" style={{ marginTop: 12 }}>
              <label htmlFor={`default_${k}`}>{t('fields.defaultFor', { field: label })}</label>
              <DefaultInput id={`default_${k}`} field={f} value={defaults[k]} onChange={(v) => setDefaults((d) => ({ ...d, [k]: v }))} />
            </div>
          );
        })}
    </Modal>
  );
}

function DefaultInput({ id, field, value, onChange }: { id: string; field?: FieldDto; value: unknown; onChange: (v: unknown) => void }) {
  const { t, i18n } = useTranslation();
  const opts = (field?.options ?? []).map((o) => ({ value: o.value, label: (i18n.language === 'en' ? o.label.en : o.label['zh-CN']) || o.value }));
  switch (field?.type) {
    case 'integer':
    case 'decimal':
      return <InputNumber id={id} style={{ width: '100%' }} precision={field.type === 'integer' ? 0 : undefined} value={value as number | undefined} onChange={(v) => onChange(v ?? undefined)} />;
    case 'boolean':
      return <Select id={id} style={{ width: '100%' }} value={value as boolean | undefined} onChange={onChange} options={[{ value: true, label: t('members.yes') }, { value: false, label: t('members.no') }]} />;
    case 'single_select':
      return <Select id={id} style={{ width: '100%' }} value={value as string | undefined} onChange={onChange} options={opts} />;
    case 'multi_select':
      return <Select id={id} mode="multiple" style={{ width: '100%' }} value={(value as string[] | undefined) ?? []} onChange={onChange} options={opts} />;
    case 'date':
      return <Input id={id} type="date" value={(value as string | undefined) ?? ''} onChange={(e) => onChange(e.target.value)} />;
    default:
      return <Input id={id} value={(value as string | undefined) ?? ''} onChange={(e) => onChange(e.target.value)} />;
  }
}
