// Pieces the activity screens share: an activity's or a sign-up's state as a tag, and the
// notice shown when the business's plan does not include activities.
import { Button, Result, Tag } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';

const STATUS_COLORS: Readonly<Record<string, string>> = {
  draft: 'default',
  published: 'green',
  closed: 'orange',
  finished: 'blue',
  cancelled: 'red',
  pending: 'gold',
  confirmed: 'green',
  waitlisted: 'purple',
  offered: 'cyan',
  rejected: 'red',
  lapsed: 'default',
};

/** An activity's state, or a sign-up's (`registration`), as a coloured tag. */
export function StatusTag({ status, registration = false }: { status: string; registration?: boolean }) {
  const { t } = useTranslation();
  return (
    <Tag color={STATUS_COLORS[status] ?? 'default'} data-testid={`status-${status}`}>
      {t(registration ? `activities.registration.status.${status}` : `activities.status.${status}`)}
    </Tag>
  );
}

/** Said in place of the page when the plan lacks the feature. */
export function ActivitiesGate() {
  const { t } = useTranslation();
  return (
    <Result
      status="info"
      title={t('activities.gate')}
      subTitle={t('errors.feature_not_in_plan')}
      extra={
        <Link to="/plan">
          <Button>{t('prepaid.gate.plan')}</Button>
        </Link>
      }
      data-testid="activities-gate"
    />
  );
}
