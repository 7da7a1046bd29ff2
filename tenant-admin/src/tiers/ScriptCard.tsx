// The optional tier script on the tiers page, compiled by the server as it is typed.
import { useState } from 'react';
import { Card, Form, Typography } from 'antd';
import { Trans, useTranslation } from 'react-i18next';
import { ScriptEditor } from '../rules/ScriptEditor';
import type { RuleFailure } from '../rules/diagnostics';
import { checkTierScript } from './api';

/** The optional script that decides the tier, compiled by the server as it is typed. */
export function ScriptCard({ editable }: { editable: boolean }) {
  const { t } = useTranslation();
  const script = (Form.useWatch('script') as string | undefined) ?? '';
  const [error, setError] = useState<RuleFailure>();
  return (
    <Card size="small" title={t('tiers.script.title')} style={{ marginBottom: 16 }} data-testid="tiers-script">
      <Typography.Paragraph type="secondary">
        <Trans i18nKey="tiers.script.explain" components={[<code key="code" />]} />
      </Typography.Paragraph>
      {/* The item gives the editor its value and shows the server's `script` problems. */}
      <Form.Item name="script" style={{ marginBottom: 0 }}>
        <ScriptEditor
          value={script}
          onChange={() => undefined}
          readOnly={!editable}
          validate={editable}
          onValidated={setError}
          check={checkTierScript}
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
