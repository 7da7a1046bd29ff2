// Pieces the mall's screens share: the notice shown when the plan lacks the mall, an
// order's state as a coloured tag, and an item's price (points, and cash beside them).
import { Button, Result, Tag } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { ApiProblem } from '../api/errors';
import { useMoney } from '../prepaid/parts';

/** Whether a failed call was refused because the plan lacks the feature. */
export const missingFeature = (err: unknown): boolean =>
  err instanceof ApiProblem && err.status === 402 && err.code === 'feature_not_in_plan';

export function MallPlanMissing() {
  const { t } = useTranslation();
  return (
    <Result
      status="info"
      title={t('prepaid.gate.title', { feature: t('features.points_mall') })}
      subTitle={t('errors.feature_not_in_plan')}
      extra={
        <Link to="/plan">
          <Button>{t('prepaid.gate.plan')}</Button>
        </Link>
      }
      data-testid="mall-gate"
    />
  );
}

const COLORS: Record<string, string> = {
  pending: 'gold',
  approved: 'blue',
  ready_for_pickup: 'cyan',
  shipped: 'geekblue',
  completed: 'green',
  cancelled: 'default',
};

export function StateTag({ state }: { state: string }) {
  const { t } = useTranslation();
  return (
    <Tag color={COLORS[state] ?? 'default'} data-testid={`mall-state-${state}`}>
      {t(`mall.state.${state}`)}
    </Tag>
  );
}

/** `300 points` or `300 points + ¥9.90`. */
export function usePrice(): (points: number, cash: number) => string {
  const { t } = useTranslation();
  const money = useMoney();
  return (points, cash) =>
    cash > 0 ? t('mall.price.withCash', { points, cash: money(cash) }) : t('mall.price.points', { points });
}
