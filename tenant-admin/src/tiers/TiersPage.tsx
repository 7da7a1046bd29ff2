// The tier ladder: the editor (metric, window, retention, demotion, the rungs and their
// benefits), saving the draft, the preview (members per tier now and under the draft, and
// who would move), publishing with the re-evaluation's progress, and the versions; the
// optional tier script (with its compile errors at their line, and the members it failed
// for), and the tier history export. The page composes the cards in this folder.
import { useEffect, useState } from 'react';
import { Alert, App, Button, Form, Space, Typography, type FormInstance } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { Schemas } from '../api/client';
import { ApiProblem } from '../api/errors';
import { errorText, focusFirstError, useUnsavedChanges } from '../common/forms';
import { formatDateTime } from '../common/format';
import { useAuth } from '../auth/AuthContext';
import { currencyDigits } from '../points/reasons';
import { fetchTiersOverview, previewTiers, publishTiers, saveTierDraft, tiersKeys } from './api';
import { ExportCard } from './ExportCard';
import { LadderSettings } from './LadderSettings';
import { PreviewCard } from './PreviewCard';
import { PublishModal } from './PublishModal';
import { ScriptCard } from './ScriptCard';
import { StatusCard } from './StatusCard';
import { TierList } from './TierList';
import { VersionsCard } from './VersionsCard';
import { emptyForm, fixCodes, mapLadderErrors, toForm, toLadder, type LadderForm } from './ladder';
import { useActorName } from '../members/changes';

type Preview = Schemas['TierPreview'];

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
  const [touched, setTouched] = useState(false);
  const actorName = useActorName();
  useUnsavedChanges(editable && touched);

  const overview = useQuery({
    queryKey: tiersKeys.overview(),
    queryFn: fetchTiersOverview,
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
    if (runStatus === 'done') void qc.invalidateQueries({ queryKey: tiersKeys.versions() });
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
      focusFirstError();
      setProblem(rest.length ? rest.join('; ') : t('tiers.editor.fixFields'));
    } else {
      setProblem(errorText(t, err));
    }
  };
  /** Saved codes can no longer change. */
  const fixSavedCodes = () => form.setFieldValue('tiers', fixCodes((form.getFieldValue('tiers') as LadderForm['tiers']) ?? []));
  const ladder = () => toLadder(form.getFieldsValue(true) as LadderForm, digits);

  const save = useMutation({
    mutationFn: () => saveTierDraft(ladder()),
    onMutate: clearErrors,
    onSuccess: () => {
      fixSavedCodes();
      setTouched(false);
      void qc.invalidateQueries({ queryKey: tiersKeys.overview() });
      void message.success(t('tiers.editor.saved'));
    },
    onError: showError,
  });
  const runPreview = useMutation({
    mutationFn: () => previewTiers(ladder()),
    onMutate: clearErrors,
    onSuccess: setPreview,
    onError: showError,
  });
  const publish = useMutation({
    mutationFn: (note: string) => publishTiers(ladder(), note),
    onMutate: clearErrors,
    onSuccess: (r) => {
      setPublishing(false);
      fixSavedCodes();
      setTouched(false);
      setPreview(undefined);
      void qc.invalidateQueries({ queryKey: tiersKeys.overview() });
      void qc.invalidateQueries({ queryKey: tiersKeys.versions() });
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
          {t('tiers.editor.draftSaved', { at: formatDateTime(o.draft.updated_at, lang, me?.tenant.time_zone), by: actorName(o.draft.updated_by) })}
        </Typography.Paragraph>
      )}
      <Form<LadderForm>
        form={form}
        name="ladder"
        layout="vertical"
        disabled={!editable}
        initialValues={emptyForm()}
        onValuesChange={() => setTouched(true)}
      >
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
