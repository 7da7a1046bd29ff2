// The result of checking a field draft: its problems, or how many members it would affect
// and how.
import { Alert, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import type { Schemas } from '../api/client';

type DraftCheck = Schemas['DraftCheck'];
type Report = Schemas['ChangeReport'];

export function CheckSummary({ check, rest }: { check: DraftCheck; rest: string[] }) {
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

export function ImpactDetail({ report }: { report: Report }) {
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
