import { Button, Result } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';

/** Said in place of the notices page when the business's plan does not include notices. */
export function NoticesGate() {
  const { t } = useTranslation();
  return (
    <Result
      status="info"
      title={t('notices.gate')}
      subTitle={t('errors.feature_not_in_plan')}
      extra={
        <Link to="/plan">
          <Button>{t('prepaid.gate.plan')}</Button>
        </Link>
      }
      data-testid="notices-gate"
    />
  );
}
