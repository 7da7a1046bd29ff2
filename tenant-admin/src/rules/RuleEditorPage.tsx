// One trigger's rule: template form -> generated Rhai -> editor with inline compile errors ->
// draft -> simulation -> publish, and the versions with a diff and rollback. The panels and
// dialogs are in this folder, one file each.
import { useEffect, useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { Alert, App, Breadcrumb, Button, Card, Form, Result, Space, Spin, Tag, Typography } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import type { Schemas } from '../api/client';
import { ApiProblem } from '../api/errors';
import { errorText, focusFirstError, useUnsavedChanges } from '../common/forms';
import { Advanced } from '../common/Advanced';
import { currencySymbol, formatDateTime } from '../common/format';
import { useAuth } from '../auth/AuthContext';
import { currencyDigits } from '../points/reasons';
import { couponKeys, fetchTemplates } from '../coupons/api';
import { failureText, type RuleFailure } from './diagnostics';
import {
  fetchRules,
  fetchRuleTemplates,
  fetchRuleVersions,
  publishRule,
  renderTemplate,
  rulesKeys,
  saveRuleDraft,
} from './api';
import { publishFailure, type PublishFailure } from './problems';
import { recipeById } from './recipes';
import { ruleSummary } from './summary';
import { PublishModal } from './PublishModal';
import { PublishProblem } from './PublishProblem';
import { useTriggerName } from './RulesPage';
import { ScriptEditor } from './ScriptEditor';
import { SimulationPanel } from './SimulationPanel';
import { TemplateForm } from './TemplateForm';
import { VersionsPanel } from './VersionsPanel';
import { editorStart, isHandEdited, sourceBody, type Generated } from './editor';
import {
  formToTemplate,
  isTrigger,
  kindOfTrigger,
  mapTemplateErrors,
  templateToForm,
  type Json,
  type TemplateForm as FormValues,
} from './template';

type Version = Schemas['VersionView'];
type TriggerRules = Schemas['TriggerRules'];

export function RuleEditorPage() {
  const { t } = useTranslation();
  const { trigger = '' } = useParams();
  const valid = isTrigger(trigger);
  const overview = useQuery({ queryKey: rulesKeys.overview(), queryFn: fetchRules, enabled: valid });
  const versions = useQuery({
    queryKey: rulesKeys.versions(trigger),
    queryFn: () => fetchRuleVersions(trigger),
    enabled: valid,
  });
  if (!valid) return <Result status="404" title={t('rules.badTrigger', { trigger })} />;
  if (overview.isError || versions.isError) {
    return <Alert type="error" showIcon message={errorText(t, overview.error ?? versions.error)} />;
  }
  if (!overview.data || !versions.data) {
    return (
      <div style={{ padding: 64, textAlign: 'center' }}>
        <Spin />
      </div>
    );
  }
  const entry = overview.data.triggers.find((r) => r.trigger === trigger);
  return <RuleEditor key={trigger} trigger={trigger} entry={entry} versions={versions.data} />;
}

function RuleEditor({ trigger, entry, versions }: { trigger: string; entry?: TriggerRules; versions: Version[] }) {
  const { t, i18n } = useTranslation();
  const { me, can } = useAuth();
  const { message, modal } = App.useApp();
  const qc = useQueryClient();
  const triggerName = useTriggerName();
  const currency = me?.tenant.currency ?? 'CNY';
  const digits = currencyDigits(currency);
  const tz = me?.tenant.time_zone;
  // A recipe from the rules page (`?recipe=weekend_double`) fills its part of the form.
  const [params] = useSearchParams();
  const recipe = recipeById(params.get('recipe'));
  const recipeHere = recipe?.trigger === trigger ? recipe : undefined;
  const [init] = useState(() => {
    const start = editorStart(trigger, entry, versions, digits);
    if (!recipeHere) return start;
    const name = t(`recipes.${recipeHere.id}.name`);
    return { ...start, form: recipeHere.apply(start.form, { today: localToday(tz), name }) };
  });
  const [form] = Form.useForm<FormValues>();
  const [script, setScript] = useState(init.script);
  const [generated, setGenerated] = useState<Generated | undefined>(init.generated);
  // The coupon a generated rule gives, by its template's name (fetched only when it gives one).
  const couponId = (generated?.template as { coupon_template_id?: unknown } | undefined)?.coupon_template_id;
  const coupons = useQuery({
    queryKey: couponKeys.templates(),
    queryFn: fetchTemplates,
    enabled: typeof couponId === 'string',
    retry: false,
  });
  const couponName = (id: string) => coupons.data?.find((x) => x.id === id)?.name ?? id;
  const [formError, setFormError] = useState<string>();
  const [compileError, setCompileError] = useState<RuleFailure | undefined>(entry?.draft?.compile_error ?? undefined);
  const [publishing, setPublishing] = useState(false);
  const [published, setPublished] = useState<PublishFailure>();
  // The form was changed since the script was generated from it.
  const [formChanged, setFormChanged] = useState(Boolean(recipeHere));
  useEffect(() => {
    if (recipeHere) void message.info(t('recipes.applied', { name: t(`recipes.${recipeHere.id}.name`) }));
    // Once, when the page opens with a recipe.
  }, []);
  // The script as last saved or published: anything else would be lost by leaving.
  const [savedScript, setSavedScript] = useState(init.script);
  const mayWrite = can('rules:write');
  const mayPublish = can('rules:publish');
  const handEdited = isHandEdited(script, generated);
  const active = versions.find((v) => v.active);
  useUnsavedChanges(mayWrite && (formChanged || script !== savedScript));

  const catalogue = useQuery({
    queryKey: rulesKeys.templates(),
    queryFn: fetchRuleTemplates,
    staleTime: Infinity,
  });
  const entryOfKind = templateEntry(catalogue.data?.templates, kindOfTrigger(trigger));

  // The template when the script is exactly what it generated (no plan feature needed to
  // publish), else the script as edited.
  const scriptBody = () => sourceBody(script, generated);

  const render = useMutation({
    mutationFn: (template: Json) => renderTemplate(template).then((r) => ({ ...r, template })),
    onSuccess: (r) => {
      setScript(r.script);
      setGenerated({ script: r.script, template: r.template });
      setFormChanged(false);
      setCompileError(undefined);
      setPublished(undefined);
      void message.success(t('rules.generated'));
    },
    onError: (err) => {
      setFormError(showTemplateErrors(t, form, err));
      focusFirstError();
    },
  });

  const save = useMutation({
    mutationFn: () => saveRuleDraft(trigger, scriptBody()),
    onSuccess: (d) => {
      void qc.invalidateQueries({ queryKey: rulesKeys.overview() });
      setCompileError(d.compile_error ?? undefined);
      setSavedScript(script);
      if (d.compile_error) void message.warning(t('rules.savedWithError'));
      else void message.success(t('rules.draftSavedMessage'));
    },
    onError: (err) => {
      if (err instanceof ApiProblem && err.fields.some((f) => f.field.startsWith('template'))) {
        setFormError(showTemplateErrors(t, form, err));
      } else {
        void message.error(errorText(t, err));
      }
    },
  });

  const publish = useMutation({
    mutationFn: (note: string) => publishRule(trigger, { ...scriptBody(), note }),
    onSuccess: (v) => {
      setPublishing(false);
      setPublished(undefined);
      setSavedScript(script);
      void qc.invalidateQueries({ queryKey: rulesKeys.overview() });
      void qc.invalidateQueries({ queryKey: rulesKeys.versions(trigger) });
      void message.success(t('rules.publishedMessage', { version: v.version }));
    },
    onError: (err) => {
      setPublishing(false);
      const f = publishFailure(err);
      if (f.kind === 'compile') setCompileError(f.failure);
      setPublished(f.kind === 'other' ? undefined : f);
      if (f.kind === 'other') void message.error(errorText(t, err));
    },
  });

  return (
    <>
      <Breadcrumb style={{ marginBottom: 8 }} items={[{ title: <Link to="/rules">{t('rules.title')}</Link> }, { title: triggerName(trigger) }]} />
      <div className="page-toolbar">
        <Typography.Title level={2}>{triggerName(trigger)}</Typography.Title>
        <span data-testid="rule-active-version">
          {active ? (
            <Tag color="green">
              {t('rules.activeVersion', { version: active.version })} · {formatDateTime(active.published_at, i18n.language, tz)}
            </Tag>
          ) : (
            <Tag>{t('rules.noActive')}</Tag>
          )}
        </span>
      </div>

      <Card
        title={t('rules.step.template')}
        style={{ marginBottom: 16 }}
        extra={
          entryOfKind?.example !== undefined && (
            <Button
              size="small"
              onClick={() => form.setFieldsValue(templateToForm(entryOfKind.example, digits) as never)}
              disabled={!mayWrite}
            >
              {t('rules.useExample')}
            </Button>
          )
        }
      >
        <Typography.Paragraph type="secondary">{t(`rules.templateIntro.${kindOfTrigger(trigger)}`)}</Typography.Paragraph>
        {formError && <Alert type="error" showIcon message={formError} style={{ marginBottom: 16 }} role="alert" />}
        <TemplateForm
          trigger={trigger}
          form={form}
          initialValues={init.form}
          currency={currency}
          onChange={() => setFormChanged(true)}
          onFinish={(values) => {
            setFormError(undefined);
            const go = () => render.mutate(formToTemplate(trigger, values, digits));
            // Generating replaces the script: ask before losing changes made by hand.
            if (handEdited && script.trim() && mayWrite) {
              modal.confirm({
                title: t('rules.replaceTitle'),
                content: t('rules.replaceEdited'),
                okText: t('rules.generate'),
                cancelText: t('common.cancel'),
                onOk: go,
              });
            } else {
              go();
            }
          }}
        />
        <Space wrap>
          <Button type="primary" onClick={() => form.submit()} loading={render.isPending} data-testid="rule-generate">
            {t('rules.generate')}
          </Button>
          {formChanged && script.trim() && <Typography.Text type="warning">{t('rules.formChanged')}</Typography.Text>}
        </Space>
      </Card>

      <Card
        title={t('rules.step.script')}
        style={{ marginBottom: 16 }}
        extra={
          <Space wrap>
            {script.trim() &&
              (handEdited ? (
                <Tag color="orange" data-testid="rule-hand-edited">
                  {t('rules.handEdited')}
                </Tag>
              ) : (
                <Tag color="blue" data-testid="rule-from-template">
                  {t('rules.fromTemplate')}
                </Tag>
              ))}
            {mayWrite && (
              <Button onClick={() => save.mutate()} loading={save.isPending} disabled={!script.trim()} data-testid="rule-save-draft">
                {t('rules.saveDraft')}
              </Button>
            )}
          </Space>
        }
      >
        {generated && !handEdited && script.trim() && (
          <Typography.Paragraph data-testid="rule-editor-summary">
            <Typography.Text type="secondary">{t('ruleSummary.title')} </Typography.Text>
            {ruleSummary(generated.template, { t, lang: i18n.language, symbol: currencySymbol(currency), digits, couponName })}
          </Typography.Paragraph>
        )}
        <Advanced
          title={t('advanced.scriptTitle')}
          forceOpen={Boolean(compileError) || (handEdited && script.trim() !== '')}
          testId="rule-script-advanced"
        >
          <Typography.Paragraph type="secondary">
            {t('rules.scriptIntro')} <a href="https://rhai.rs/book/" target="_blank" rel="noreferrer">Rhai</a>
          </Typography.Paragraph>
          {handEdited && script.trim() && (
            <Alert type="info" showIcon message={t('rules.handEditedHelp')} style={{ marginBottom: 12 }} />
          )}
          <ScriptEditor
            value={script}
            onChange={(v) => {
              setScript(v);
              setPublished(undefined);
            }}
            readOnly={!mayWrite}
            validate={mayWrite}
            onValidated={setCompileError}
            label={t('rules.step.script')}
          />
        </Advanced>
        <div style={{ marginTop: 8 }} data-testid="rule-compile-status">
          {compileError ? (
            <Typography.Text type="danger">
              {t('rules.compileError')}: {failureText(compileError)}
            </Typography.Text>
          ) : script.trim() ? (
            <Typography.Text type="success">{t('rules.compiles')}</Typography.Text>
          ) : null}
        </div>
      </Card>

      {mayWrite && (
        <Card title={t('rules.step.simulate')} style={{ marginBottom: 16 }}>
          <SimulationPanel trigger={trigger} script={script} digits={digits} currency={currency} />
        </Card>
      )}

      {mayPublish && (
        <Card title={t('rules.step.publish')} style={{ marginBottom: 16 }}>
          <Typography.Paragraph type="secondary">
            {handEdited ? t('rules.publishIntroScript') : t('rules.publishIntroTemplate')}
          </Typography.Paragraph>
          {published && <PublishProblem failure={published} />}
          <Button type="primary" onClick={() => setPublishing(true)} disabled={!script.trim()} data-testid="rule-publish">
            {t('rules.publish')}
          </Button>
        </Card>
      )}

      <Card title={t('rules.step.versions')} style={{ marginBottom: 16 }}>
        <VersionsPanel
          trigger={trigger}
          versions={versions}
          current={script}
          onOpen={(v) => {
            setScript(v.script);
            setGenerated(v.template ? { script: v.script, template: v.template as Json } : undefined);
            if (v.template) form.setFieldsValue(templateToForm(v.template, digits) as never);
            setPublished(undefined);
            void message.info(t('rules.versionOpened', { version: v.version }));
          }}
        />
      </Card>

      {publishing && (
        <PublishModal
          trigger={triggerName(trigger)}
          loading={publish.isPending}
          onCancel={() => setPublishing(false)}
          onPublish={(note) => publish.mutate(note)}
        />
      )}
    </>
  );
}

/** The catalogue's entry for a template kind. */
function templateEntry(templates: unknown, kind: string): { title?: string; description?: string; example?: unknown } | undefined {
  if (!Array.isArray(templates)) return undefined;
  return templates.find((x): x is { kind: string; example?: unknown } => typeof x === 'object' && x !== null && x.kind === kind);
}

/** Puts a 422's template problems on the form; returns the text for the rest. */
function showTemplateErrors(t: TFunction, form: ReturnType<typeof Form.useForm<FormValues>>[0], err: unknown): string | undefined {
  if (!(err instanceof ApiProblem)) return errorText(t, err);
  const { fields, rest } = mapTemplateErrors(err.fields);
  form.setFields(fields as Parameters<typeof form.setFields>[0]);
  if (fields.length === 0) return errorText(t, err) + (rest.length ? `: ${rest.join('; ')}` : '');
  return rest.length ? rest.join('; ') : t('rules.fixForm');
}

/** Today in the business's time zone, `2026-03-14`. */
function localToday(timeZone?: string): string {
  try {
    return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
  } catch {
    return new Date().toISOString().slice(0, 10);
  }
}
