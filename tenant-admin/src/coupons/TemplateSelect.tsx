// Choosing a coupon template by its name (the value is its id), for the places that give
// coupons: promotions, point rules, tier benefits. Archived templates are not offered, but a
// chosen one still shows its name.
import { Select } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { couponKeys, fetchTemplates } from './api';

interface Props {
  value?: string | null;
  onChange?: (value: string | null) => void;
  disabled?: boolean;
  'data-testid'?: string;
}

export function CouponTemplateSelect({ value, onChange, disabled, ...rest }: Props) {
  const templates = useQuery({ queryKey: couponKeys.templates(), queryFn: fetchTemplates, retry: false });
  const options = (templates.data ?? [])
    .filter((x) => !x.archived || x.id === value)
    .map((x) => ({ value: x.id, label: x.name }));
  return (
    <Select
      allowClear
      showSearch
      optionFilterProp="label"
      loading={templates.isPending}
      options={options}
      value={value ?? undefined}
      onChange={(v: string | undefined) => onChange?.(v ?? null)}
      disabled={disabled}
      data-testid={rest['data-testid']}
      style={{ minWidth: 220 }}
    />
  );
}
