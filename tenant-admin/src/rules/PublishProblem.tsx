// Why publishing a rule was refused: the plan lacks the feature or the limit is reached
// (with the plans that have it), or the script does not compile.
import { Alert, Space } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { planName } from '../common/format';
import { failureText } from './diagnostics';
import type { PublishFailure } from './problems';

export function PublishProblem({ failure }: { failure: PublishFailure }) {
  const { t } = useTranslation();
  if (failure.kind === 'needs_feature') {
    return (
      <Alert
        type="warning"
        showIcon
        role="alert"
        data-testid="rule-publish-402"
        style={{ marginBottom: 12 }}
        message={t('rules.needsFeatureTitle')}
        description={
          <>
            <p>
              {t('rules.needsFeature', {
                feature: t(`features.${failure.feature}`, { defaultValue: failure.feature }),
                plans: failure.plans.map((p) => planName(t, p)).join(t('advanced.listSeparator')) || '—',
              })}
            </p>
            <Space wrap>
              <Link to="/plan">{t('rules.seePlans')}</Link>
            </Space>
          </>
        }
      />
    );
  }
  if (failure.kind === 'limit') {
    return (
      <Alert
        type="warning"
        showIcon
        role="alert"
        style={{ marginBottom: 12 }}
        message={t('rules.limitTitle')}
        description={
          <>
            <p>{t('rules.limit', { plans: failure.plans.map((p) => planName(t, p)).join(t('advanced.listSeparator')) || '—' })}</p>
            <Link to="/plan">{t('rules.seePlans')}</Link>
          </>
        }
      />
    );
  }
  if (failure.kind === 'compile') {
    return (
      <Alert
        type="error"
        showIcon
        role="alert"
        data-testid="rule-publish-422"
        style={{ marginBottom: 12 }}
        message={t('rules.publishCompileTitle')}
        description={failureText(failure.failure)}
      />
    );
  }
  return null;
}
