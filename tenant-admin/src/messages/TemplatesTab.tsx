import { useState } from 'react';
import { App, Button, Form, Input, Modal, Switch, Table, Tag, Typography } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { Schemas } from '../api/client';
import { applyServerErrors, errorText } from '../common/forms';
import { formatDateTime } from '../common/format';
import { useAuth } from '../auth/AuthContext';
import { OCCASIONS, fetchSent, fetchTemplates, messagesKeys, previewTemplate, saveTemplate } from './api';

type Template = Schemas['TemplateView'];
type Locale = 'zh-CN' | 'en';
type Occasion = Schemas['TemplateInput']['occasion'];

interface Row {
  occasion: Occasion;
  zh?: Template;
  en?: Template;
}

/** One row per occasion, with its zh-CN and en wording when saved. */
function rows(templates: Template[] | undefined): Row[] {
  return OCCASIONS.map((occasion) => ({
    occasion,
    zh: templates?.find((x) => x.occasion === occasion && x.channel === 'email' && x.locale === 'zh-CN'),
    en: templates?.find((x) => x.occasion === occasion && x.channel === 'email' && x.locale === 'en'),
  }));
}

export function TemplatesTab() {
  const { t, i18n } = useTranslation();
  const { me } = useAuth();
  const templates = useQuery({ queryKey: messagesKeys.templates(), queryFn: fetchTemplates });
  const sent = useQuery({ queryKey: messagesKeys.sent(), queryFn: fetchSent });
  const [editing, setEditing] = useState<{ occasion: Occasion; locale: Locale; current?: Template }>();
  const tz = me?.tenant.time_zone;
  const wording = (r: Row, locale: Locale) => {
    const tpl = locale === 'zh-CN' ? r.zh : r.en;
    return (
      <Button type="link" data-testid={`template-${r.occasion}-${locale}`} onClick={() => setEditing({ occasion: r.occasion, locale, current: tpl })}>
        {tpl ? (tpl.enabled ? tpl.subject : `${tpl.subject} (${t('messages.off')})`) : t('messages.notWorded')}
      </Button>
    );
  };

  return (
    <>
      <Typography.Paragraph type="secondary">{t('messages.templatesIntro')}</Typography.Paragraph>
      <Table<Row>
        rowKey="occasion"
        loading={templates.isPending}
        dataSource={rows(templates.data)}
        pagination={false}
        scroll={{ x: 'max-content' }}
        locale={{ emptyText: templates.isError ? errorText(t, templates.error) : undefined }}
        columns={[
          { title: t('messages.occasion'), dataIndex: 'occasion', render: (o: string) => t(`messages.occasions.${o}`) },
          { title: t('messages.zhCN'), key: 'zh', render: (_, r) => wording(r, 'zh-CN') },
          { title: t('messages.en'), key: 'en', render: (_, r) => wording(r, 'en') },
        ]}
      />
      <Typography.Title level={4} style={{ marginTop: 24 }}>
        {t('messages.sentTitle')}
      </Typography.Title>
      <Table<Schemas['MessageView']>
        rowKey="id"
        size="small"
        loading={sent.isPending}
        dataSource={sent.data}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        scroll={{ x: 'max-content' }}
        locale={{ emptyText: sent.isError ? errorText(t, sent.error) : t('messages.noneSent') }}
        columns={[
          { title: t('messages.created'), dataIndex: 'created_at', render: (v: string) => formatDateTime(v, i18n.language, tz) },
          { title: t('messages.occasion'), dataIndex: 'occasion', render: (o?: string) => (o ? t(`messages.occasions.${o}`, { defaultValue: o }) : '') },
          { title: t('messages.subject'), dataIndex: 'subject' },
          { title: t('messages.status'), dataIndex: 'status', render: (s: string) => <StatusTag status={s} /> },
          { title: t('messages.attempts'), dataIndex: 'attempts' },
          {
            title: t('messages.lastError'),
            key: 'why',
            render: (_, m) =>
              m.status === 'held' && m.reason ? (
                <span data-testid="message-reason">{t(`messages.reasons.${m.reason}`, { defaultValue: m.reason })}</span>
              ) : (
                m.last_error
              ),
          },
        ]}
      />
      {editing && <TemplateModal {...editing} onClose={() => setEditing(undefined)} />}
    </>
  );
}

export function StatusTag({ status }: { status: string }) {
  const { t } = useTranslation();
  const color = status === 'sent' ? 'green' : status === 'failed' || status === 'stopped' ? 'red' : status === 'held' ? 'orange' : 'blue';
  return <Tag color={color}>{t(`messages.statuses.${status}`, { defaultValue: status })}</Tag>;
}

interface TemplateForm {
  subject: string;
  body_text: string;
  body_html?: string;
  enabled: boolean;
}

export function TemplateModal({
  occasion,
  locale: initialLocale,
  current,
  onClose,
}: {
  occasion: Occasion;
  locale: Locale;
  current?: Template;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [form] = Form.useForm<TemplateForm>();
  const locale = initialLocale;
  const [error, setError] = useState<string>();
  const [preview, setPreview] = useState<Schemas['PreviewView']>();
  const body = (v: TemplateForm): Schemas['TemplateInput'] => ({
    occasion,
    channel: 'email',
    locale,
    subject: v.subject ?? '',
    body_text: v.body_text ?? '',
    body_html: v.body_html?.trim() ? v.body_html : undefined,
    enabled: v.enabled ?? true,
  });
  const save = useMutation({
    mutationFn: (v: TemplateForm) => saveTemplate(body(v)),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: messagesKeys.templates() });
      void message.success(t('messages.saved'));
      onClose();
    },
    onError: (err) => setError(applyServerErrors(t, form, err, ['subject', 'body_text', 'body_html'])),
  });
  const show = useMutation({
    mutationFn: () => previewTemplate(body(form.getFieldsValue())),
    onSuccess: (p) => {
      setError(undefined);
      setPreview(p);
    },
    onError: (err) => setError(applyServerErrors(t, form, err, ['subject', 'body_text', 'body_html'])),
  });
  return (
    <Modal
      open
      width={720}
      title={`${t(`messages.occasions.${occasion}`)} · ${locale === 'zh-CN' ? t('messages.zhCN') : t('messages.en')}`}
      onCancel={onClose}
      okText={t('common.save')}
      cancelText={t('common.cancel')}
      confirmLoading={save.isPending}
      onOk={() => form.submit()}
    >
      {error && (
        <Typography.Paragraph type="danger" role="alert">
          {error}
        </Typography.Paragraph>
      )}
      <Typography.Paragraph type="secondary">{t('messages.variablesHelp', {
          vars: '{{member.name}} {{member.card}} {{business.name}} {{points}} {{balance}} {{from}} {{to}} {{date}} {{plan}} {{pass}} {{visits}} {{activity}} {{time}} {{place}} {{until}} {{status}} {{reason}} {{points_refunded}} {{unsubscribe.link}}',
          interpolation: { escapeValue: false },
        })}</Typography.Paragraph>
      <Form<TemplateForm>
        form={form}
        layout="vertical"
        name="message-template"
        initialValues={{
          subject: current?.subject ?? '',
          body_text: current?.body_text ?? '',
          body_html: current?.body_html ?? '',
          enabled: current?.enabled ?? true,
        }}
        onFinish={(v) => {
          setError(undefined);
          save.mutate(v);
        }}
      >
        <Form.Item name="subject" label={t('messages.subject')}>
          <Input data-testid="template-subject" />
        </Form.Item>
        <Form.Item name="body_text" label={t('messages.bodyText')}>
          <Input.TextArea rows={5} data-testid="template-body" />
        </Form.Item>
        <Form.Item name="body_html" label={t('messages.bodyHtml')}>
          <Input.TextArea rows={3} />
        </Form.Item>
        <Form.Item name="enabled" label={t('messages.enabled')} valuePropName="checked">
          <Switch />
        </Form.Item>
      </Form>
      <Button onClick={() => show.mutate()} loading={show.isPending} data-testid="template-preview">
        {t('messages.preview')}
      </Button>
      {preview && (
        <div className="message-preview" data-testid="template-preview-result" style={{ marginTop: 12 }}>
          <Typography.Text strong>{preview.subject}</Typography.Text>
          <Typography.Paragraph style={{ whiteSpace: 'pre-wrap', marginTop: 8 }}>{preview.text}</Typography.Paragraph>
        </div>
      )}
    </Modal>
  );
}
