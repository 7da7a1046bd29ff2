-- Coupons: the plans cap the templates in use and the coupons issued a month.
UPDATE platform.plans
SET limits = limits || '{"coupon_templates": 20, "coupons_per_month": 10000}'::jsonb, updated_at = now()
WHERE code = 'starter' AND NOT limits ? 'coupon_templates';
UPDATE platform.plans
SET limits = limits || '{"coupon_templates": 200, "coupons_per_month": 200000}'::jsonb, updated_at = now()
WHERE code = 'pro' AND NOT limits ? 'coupon_templates';
