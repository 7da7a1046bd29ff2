// Pieces the prepaid screens share: money in the business's currency, the business's today,
// the notice a page shows when the plan lacks its feature, how a payment was taken, and a
// member's name (linking to the member) where a record only holds the id.
import { App, Button, Form, Input, Result, Select, Space, Tag } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { ApiProblem } from '../api/errors';
import { errorText } from '../common/forms';
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
/** A member's name as the server sent it with the row (empty once erased), linking to them. */
export function MemberLink({ id, name }: { id: string; name: string }) {
  const { t } = useTranslation();
  return <Link to={`/members/${id}`}>{name || t('prepaid.unknownMember')}</Link>;
}

export function MemberName({ id }: { id: string }) {
  const { t } = useTranslation();
  const m = useQuery({ queryKey: membersKeys.detail(id), queryFn: () => fetchMember(id), staleTime: 300_000 });
  const name = m.data?.name ?? (m.isError ? t('prepaid.unknownMember') : '…');
  return <Link to={`/members/${id}`}>{name}</Link>;
}

/**
 * Whether a fee standard or pass product is archived (not offered for sale; what was sold
 * keeps working), with the button that archives it or brings it back for those who may.
 */
export function ArchiveToggle({
  name,
  archived,
  toggle,
  queryKey,
  testId,
}: {
  name: string;
  archived: boolean;
  toggle: (archived: boolean) => Promise<unknown>;
  queryKey: readonly unknown[];
  testId: string;
}) {
  const { t } = useTranslation();
  const { can } = useAuth();
  const { message } = App.useApp();
  const qc = useQueryClient();
  const change = useMutation({
    mutationFn: () => toggle(!archived),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey });
      void message.success(t(archived ? 'prepaid.archive.restored' : 'prepaid.archive.archived', { name }));
    },
    onError: (err) => void message.error(errorText(t, err)),
  });
  return (
    <Space size={4}>
      {archived && <Tag>{t('prepaid.archive.tag')}</Tag>}
      {can('settings:manage') && (
        <Button size="small" loading={change.isPending} onClick={() => change.mutate()} data-testid={testId}>
          {t(archived ? 'prepaid.archive.restore' : 'prepaid.archive.archive')}
        </Button>
      )}
    </Space>
  );
}
