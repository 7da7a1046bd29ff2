-- Portal notices and scheduled notices: every paid plan includes them.
UPDATE platform.plans
SET features = features || '["notices"]'::jsonb, updated_at = now()
WHERE code IN ('starter', 'pro', 'enterprise') AND NOT features ? 'notices';
