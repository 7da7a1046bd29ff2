// The member field designer: edit the list of custom fields, see the form members get,
// check the draft against the members there are, publish. The editor, the preview, the
// check's result and the conflict dialog are in this folder, one file each.
import { useMemo, useState } from 'react';
import { Alert, App, Button, Card, Empty, List, Result, Select, Space, Spin, Tag, Typography } from 'antd';
import { ArrowDownOutlined, ArrowUpOutlined, DeleteOutlined, PlusOutlined, UndoOutlined } from '@ant-design/icons';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { Schemas } from '../api/client';
import { ApiProblem } from '../api/errors';
import { errorText, useUnsavedChanges } from '../common/forms';
import { nameIn } from '../common/format';
import { useAuth } from '../auth/AuthContext';
import { membersKeys } from '../members/api';
import { fieldsKeys, publishFields, validateFields } from './api';
import { CheckSummary } from './CheckSummary';
import { ConflictModal } from './ConflictModal';
import { FieldEditor } from './FieldEditor';
import { FormPreview } from './FormPreview';
import { useFields } from './queries';
import {
  FIELD_TYPES,
  fromDtos,
  localProblems,
  move,
  newField,
  serverProblems,
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
/** Local problems found under 「高级」 (the key, option values). */
const CODE_PROBLEMS = ['key', 'keyBuiltin', 'keyTwice', 'optionValues'];

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
  const [check, setCheck] = useState<DraftCheck>();
  const [serverErr, setServerErr] = useState<string>();
  const [publishing, setPublishing] = useState<Report>();
  const manage = can('fields:manage');

  const dtos = useMemo(() => toDtos(draft), [draft]);
  const dirty = JSON.stringify(dtos) !== JSON.stringify(toDtos(fromDtos(published)));
  useUnsavedChanges(manage && dirty);
  const local = useMemo(() => localProblems(draft), [draft]);
  const server = useMemo(() => serverProblems(check?.errors ?? [], draft), [check, draft]);

  const update = (uid: string, fn: (f: DraftField) => DraftField) => {
    setDraft((d) => d.map((f) => (f.uid === uid ? fn(f) : f)));
    setCheck(undefined);
  };

  const validate = useMutation({
    mutationFn: () => validateFields({ fields: dtos, on_conflict: 'refuse', defaults: {} }),
    onSuccess: (c) => {
      setCheck(c);
      setServerErr(undefined);
    },
    onError: (err) => setServerErr(errorText(t, err)),
  });

  const publish = useMutation({
    mutationFn: (v: { on_conflict: Schemas['OnConflict']; defaults: Record<string, unknown> }) =>
      publishFields({ fields: dtos, ...v }),
    onSuccess: (view) => {
      qc.setQueryData(fieldsKeys.current(), view);
      void qc.invalidateQueries({ queryKey: membersKeys.all });
      setPublishing(undefined);
      void message.success(t('fields.published', { version: view.version }));
    },
    onError: async (err) => {
      if (err instanceof ApiProblem && err.code === 'field_change_conflict') {
        // The report: which members and fields; ask how to resolve it.
        const c = await validateFields({ fields: dtos, on_conflict: 'refuse', defaults: {} }).catch(() => undefined);
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
                  <span>{nameIn(f.label, previewLang) || t('fields.untitled')}</span>{' '}
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
                  codeProblem={
                    (local.get(f.uid) ?? []).some((p) => CODE_PROBLEMS.includes(p)) ||
                    (server.byField.get(f.uid) ?? []).some((p) => /^(key|options)\b/.test(p))
                  }
                  taken={[...draft.filter((d) => d.uid !== f.uid).map((d) => d.key), ...archived.map((a) => a.key)]}
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
                    {nameIn(a.label, previewLang) || a.key}
                  </List.Item>
                )}
              />
            </Card>
          )}
        </div>
        <FormPreview dtos={dtos} lang={previewLang} onLang={setPreviewLang} />
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
