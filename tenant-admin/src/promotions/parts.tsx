// Pieces the promotions' screens share: a phase as a coloured tag, what a promotion gives
// in words, its audience, and the notice shown when the plan lacks promotions.
import { Button, Result, Tag } from 'antd';
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { ApiProblem } from '../api/errors';

/** Whether a failed call was refused because the plan lacks the feature. */
export const missingFeature = (err: unknown): boolean =>
  err instanceof ApiProblem && err.status === 402 && err.code === 'feature_not_in_plan';

export function PromotionsPlanMissing() {
  const { t } = useTranslation();
  return (
    <Result
      status="info"
      title={t('prepaid.gate.title', { feature: t('features.promotions') })}
      subTitle={t('errors.feature_not_in_plan')}
      extra={
        <Link to="/plan">
          <Button>{t('prepaid.gate.plan')}</Button>
        </Link>
      }
      data-testid="promotions-gate"
    />
  );
}

const COLORS: Record<string, string> = {
  draft: 'default',
  scheduled: 'blue',
  running: 'green',
  ended: 'default',
  stopped: 'red',
};

export function PhaseTag({ phase }: { phase: string }) {
  const { t } = useTranslation();
  return (
    <Tag color={COLORS[phase] ?? 'default'} data-testid={`promotion-phase-${phase}`}>
      {t(`promotions.phase.${phase}`)}
    </Tag>
  );
}

/** What a promotion gives, one short line per part. */
export function givesText(
  t: TFunction,
  p: {
    multiplier?: number | null;
    bonus_points?: number | null;
    coupon_template_name?: string | null;
    mall_items: { item_name: string; points: number }[];
  },
): string[] {
  const out: string[] = [];
  if (p.multiplier) out.push(t('promotions.gives.multiplier', { factor: p.multiplier }));
  if (p.bonus_points) out.push(t('promotions.gives.bonus', { points: p.bonus_points }));
  if (p.coupon_template_name) out.push(t('promotions.gives.coupon', { name: p.coupon_template_name }));
  for (const i of p.mall_items) out.push(t('promotions.gives.mall', { name: i.item_name, points: i.points }));
  return out;
}

/** `2027-05-01 – 2027-05-07`. */
export const periodText = (p: { starts_on: string; ends_on: string }): string =>
  p.starts_on === p.ends_on ? p.starts_on : `${p.starts_on} – ${p.ends_on}`;
