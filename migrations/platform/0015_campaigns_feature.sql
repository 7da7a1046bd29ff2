-- The plan feature `email_campaigns` is now `campaigns` (campaigns go out by e-mail, text
-- message and the portal's inbox). Every plan that has the old key, seeded or customised by
-- operators, gets the new one instead; plans without it stay without.
UPDATE platform.plans
SET features = (features - 'email_campaigns' - 'campaigns') || '["campaigns"]'::jsonb,
    updated_at = now()
WHERE features ? 'email_campaigns';
