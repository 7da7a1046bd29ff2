// Pieces the prepaid screens share: money in the business's currency, the business's today,
// the notice a page shows when the plan lacks its feature, how a payment was taken, and a
// member's name (linking to the member) where a record only holds the id.
import { Button, Form, Input, Result, Select } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { ApiProblem } from '../api/errors';
import { useAuth } from '../auth/AuthContext';
import { fetchMember, membersKeys } from '../members/api';
import { METHODS } from './api';
import { moneyText, todayIn } from './money';

/** Money in the business's currency (¥ with two decimals for yuan). */
export function useMoney(): (minor: number) => string {
  const { i18n } = useTranslation();
  const { me } = useAuth();
  const currency = me?.tenant.currency ?? 'CNY';
  return (minor) => moneyText(minor, currency, i18n.language);
}

/** The business's local day, `YYYY-MM-DD`. */
export function useToday(): string {
  const { me } = useAuth();
  return todayIn(me?.tenant.time_zone);
}

/** Whether a failed call was refused because the plan lacks the feature. */
export const missingFeature = (err: unknown): boolean =>
  err instanceof ApiProblem && err.status === 402 && err.code === 'feature_not_in_plan';

/** Said in place of a section the business's plan does not include. */
export function PlanMissing({ feature }: { feature: 'memberships' | 'stored_value' | 'visit_passes' }) {
  const { t } = useTranslation();
  return (
    <Result
      status="info"
      title={t('prepaid.gate.title', { feature: t(`features.${feature}`) })}
      subTitle={t('errors.feature_not_in_plan')}
      extra={
        <Link to="/plan">
          <Button>{t('prepaid.gate.plan')}</Button>
        </Link>
      }
      data-testid={`prepaid-gate-${feature}`}
    />
  );
}

/** The form items of a payment: the method (required) and the receipt number. */
export function PaymentFields({ testId }: { testId: string }) {
  const { t } = useTranslation();
  return (
    <>
      <Form.Item name="method" label={t('prepaid.topUp.method')} rules={[{ required: true, message: t('validation.required') }]}>
        <Select
          data-testid={`${testId}-method`}
          options={METHODS.map((m) => ({ value: m, label: t(`prepaid.method.${m}`) }))}
        />
      </Form.Item>
      <Form.Item name="receipt" label={t('prepaid.topUp.receipt')}>
        <Input maxLength={100} data-testid={`${testId}-receipt`} />
      </Form.Item>
    </>
  );
}

/** A member's name linking to their page (fetched once per member and kept). */
export function MemberName({ id }: { id: string }) {
  const { t } = useTranslation();
  const m = useQuery({ queryKey: membersKeys.detail(id), queryFn: () => fetchMember(id), staleTime: 300_000 });
  const name = m.data?.name ?? (m.isError ? t('prepaid.unknownMember') : '…');
  return <Link to={`/members/${id}`}>{name}</Link>;
}
