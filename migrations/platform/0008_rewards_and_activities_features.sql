-- Promotions, the points mall and activities: the pro and enterprise plans include them.
UPDATE platform.plans
SET features = features || '["promotions", "points_mall", "activities"]'::jsonb, updated_at = now()
WHERE code IN ('pro', 'enterprise') AND NOT features ? 'points_mall';
