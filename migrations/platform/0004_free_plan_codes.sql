-- One-time codes (portal registration, password resets, phone changes) are text messages
-- too: the free plan gets enough of them for a small business, while marketing messages stay
-- behind the `sms` feature.
UPDATE platform.plans
SET limits = jsonb_set(limits, '{sms_per_month}', '50'), updated_at = now()
WHERE code = 'free' AND (limits ->> 'sms_per_month')::bigint = 0;
