// The form members get, as the field draft stands, in either language: the designer's
// live preview.
import { Component, useMemo, useState, type ReactNode } from 'react';
import { Alert, Card, Empty, Segmented, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { CustomForm } from './CustomForm';
import { compileJsonSchema, compileUiSchema, type FieldDto, type Lang } from './schema';

export function FormPreview({ dtos, lang: previewLang, onLang: setPreviewLang }: { dtos: FieldDto[]; lang: Lang; onLang: (l: Lang) => void }) {
  const { t } = useTranslation();
  const [preview, setPreview] = useState<Record<string, unknown>>({});
  const jsonSchema = useMemo(() => compileJsonSchema(dtos), [dtos]);
  const uiSchema = useMemo(() => compileUiSchema(dtos), [dtos]);
  return (
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
