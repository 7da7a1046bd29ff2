-- Plans with features and limits, the account lifecycle, metered usage, operators' sessions,
-- support sessions, invoices and the platform's own audit trail.

ALTER TABLE platform.plans
    ADD COLUMN overage    jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN trial_days int NOT NULL DEFAULT 14 CHECK (trial_days BETWEEN 0 AND 365),
    ADD COLUMN archived   boolean NOT NULL DEFAULT false,
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

UPDATE platform.plans SET is_default = false WHERE code = 'free';
UPDATE platform.plans
SET features = '["tiers"]',
    limits = '{"members": 500, "staff": 3, "stores": 1, "active_rules": 2, "sms_per_month": 0,
               "emails_per_month": 100, "storage_mb": 100, "api_requests_per_minute": 60}',
    trial_days = 0
WHERE code = 'free';

INSERT INTO platform.plans (code, name, monthly_price_minor, currency, features, limits, overage, trial_days, is_default)
VALUES
    ('starter', 'Starter', 19900, 'CNY',
     '["custom_fields", "tiers", "coupons", "api_keys", "exports", "sms"]',
     '{"members": 5000, "staff": 10, "stores": 3, "active_rules": 5, "sms_per_month": 500,
       "emails_per_month": 2000, "storage_mb": 1024, "api_requests_per_minute": 300}',
     '{}', 14, true),
    ('pro', 'Pro', 59900, 'CNY',
     '["custom_fields", "rule_scripts", "tiers", "coupons", "events", "sms", "email_campaigns",
       "api_keys", "webhooks", "exports", "multi_store"]',
     '{"members": 50000, "staff": 50, "stores": 20, "active_rules": 20, "sms_per_month": 5000,
       "emails_per_month": 20000, "storage_mb": 10240, "api_requests_per_minute": 1200}',
     '{"sms_per_month": 5, "emails_per_month": 1}', 14, false),
    ('enterprise', 'Enterprise', 199900, 'CNY',
     '["custom_fields", "rule_scripts", "tiers", "coupons", "events", "sms", "email_campaigns",
       "api_keys", "webhooks", "exports", "multi_store", "reports_advanced"]',
     '{"sms_per_month": 50000, "emails_per_month": 200000, "api_requests_per_minute": 6000}',
     '{"sms_per_month": 4, "emails_per_month": 1}', 14, false);

ALTER TABLE platform.tenants
    ADD COLUMN trial_ends_at     timestamptz,
    ADD COLUMN period_start      timestamptz,
    ADD COLUMN period_end        timestamptz,
    ADD COLUMN suspended_reason  text CHECK (suspended_reason IN ('billing', 'operator')),
    ADD COLUMN status_note       text,
    ADD COLUMN status_changed_at timestamptz,
    ADD COLUMN past_due_since    timestamptz,
    ADD COLUMN closed_at         timestamptz,
    ADD COLUMN purge_after       timestamptz,
    ADD COLUMN purged_at         timestamptz;

-- Accounts made before plans had trials start theirs now.
UPDATE platform.tenants SET trial_ends_at = now() + interval '14 days' WHERE status = 'trial';
CREATE INDEX tenants_trial_due ON platform.tenants (trial_ends_at) WHERE status = 'trial';
CREATE INDEX tenants_period_due ON platform.tenants (period_end) WHERE status IN ('active', 'past_due');
CREATE INDEX tenants_purge_due ON platform.tenants (purge_after) WHERE status = 'closed' AND purged_at IS NULL;

-- Metered usage: counters per tenant, per calendar month (UTC), per metric.
CREATE TABLE platform.usage (
    tenant_id bigint NOT NULL REFERENCES platform.tenants (id) ON DELETE CASCADE,
    month     date NOT NULL,
    metric    text NOT NULL,
    value     bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, month, metric)
);

CREATE TABLE platform.operator_sessions (
    id           uuid PRIMARY KEY,
    operator_id  uuid NOT NULL REFERENCES platform.operators (id) ON DELETE CASCADE,
    token_hash   bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz
);

ALTER TABLE platform.operators
    ADD COLUMN disabled_at timestamptz,
    ADD COLUMN failed_logins int NOT NULL DEFAULT 0,
    ADD COLUMN locked_until timestamptz;

-- An operator's explicit, time-limited permission to read one tenant's data.
CREATE TABLE platform.support_sessions (
    id          uuid PRIMARY KEY,
    operator_id uuid NOT NULL REFERENCES platform.operators (id),
    tenant_id   bigint NOT NULL REFERENCES platform.tenants (id) ON DELETE CASCADE,
    reason      text NOT NULL,
    token_hash  bytea NOT NULL UNIQUE,
    started_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    ended_at    timestamptz
);

CREATE TABLE platform.invoices (
    id              uuid PRIMARY KEY,
    tenant_id       bigint NOT NULL REFERENCES platform.tenants (id) ON DELETE CASCADE,
    period_start    timestamptz NOT NULL,
    period_end      timestamptz NOT NULL,
    plan_code       text NOT NULL,
    currency        text NOT NULL,
    lines           jsonb NOT NULL,
    total_minor     bigint NOT NULL CHECK (total_minor >= 0),
    status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'paid', 'void')),
    issued_at       timestamptz NOT NULL,
    due_at          timestamptz NOT NULL,
    paid_at         timestamptz,
    payment_ref     text,
    -- One invoice per tenant per period, however often the job runs.
    UNIQUE (tenant_id, period_start)
);
CREATE INDEX invoices_overdue ON platform.invoices (due_at) WHERE status = 'open';

-- What operators and the platform's jobs did to accounts.
CREATE TABLE platform.audit_log (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        timestamptz NOT NULL,
    actor     text NOT NULL,
    action    text NOT NULL,
    tenant_id bigint,
    detail    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX platform_audit_tenant ON platform.audit_log (tenant_id, id);
