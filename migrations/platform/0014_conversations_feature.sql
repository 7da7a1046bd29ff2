-- Conversations with members: in every plan that has the messaging features (notices).
UPDATE platform.plans
SET features = features || '["conversations"]'::jsonb, updated_at = now()
WHERE code IN ('starter', 'pro', 'enterprise') AND NOT features ? 'conversations';
