-- Memberships, stored value and visit passes: the pro and enterprise plans include them.
UPDATE platform.plans
SET features = features || '["memberships", "stored_value", "visit_passes"]'::jsonb, updated_at = now()
WHERE code IN ('pro', 'enterprise') AND NOT features ? 'stored_value';
