-- Coupons: templates (versioned terms and quantities), batches of generated codes, the
-- coupons themselves (each with a copy of the terms it was issued under) and the counters
-- that keep the quantities: a template's total (a conditional UPDATE backed by a CHECK),
-- per member and per day (rows upserted under their lock, checked by the statement's
-- answer in the same transaction).

CREATE TABLE coupon_templates (
    id           uuid PRIMARY KEY,
    name         text NOT NULL,
    version      int NOT NULL DEFAULT 1,
    -- The terms in force (core::coupons::Terms); earlier versions in coupon_template_versions.
    terms        jsonb NOT NULL,
    total        int CHECK (total > 0),
    per_member   int CHECK (per_member > 0),
    per_day      int CHECK (per_day > 0),
    issued       int NOT NULL DEFAULT 0,
    -- Members may claim it in the portal, for this many points each (0: free).
    claimable    boolean NOT NULL DEFAULT false,
    points_price bigint NOT NULL DEFAULT 0 CHECK (points_price >= 0),
    -- One public code anyone may claim it with.
    shared_code  text CONSTRAINT coupon_templates_shared_code_key UNIQUE,
    archived     boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    CONSTRAINT coupon_templates_total_covered CHECK (total IS NULL OR issued <= total)
);

CREATE TABLE coupon_template_versions (
    template_id uuid NOT NULL REFERENCES coupon_templates (id),
    version     int NOT NULL,
    name        text NOT NULL,
    terms       jsonb NOT NULL,
    at          timestamptz NOT NULL,
    actor       text NOT NULL,
    PRIMARY KEY (template_id, version)
);

CREATE TABLE coupon_member_counts (
    template_id uuid NOT NULL REFERENCES coupon_templates (id),
    member_id   uuid NOT NULL REFERENCES members (id),
    issued      int NOT NULL CHECK (issued >= 0),
    PRIMARY KEY (template_id, member_id)
);

CREATE TABLE coupon_day_counts (
    template_id uuid NOT NULL REFERENCES coupon_templates (id),
    day         date NOT NULL,
    issued      int NOT NULL CHECK (issued >= 0),
    PRIMARY KEY (template_id, day)
);

CREATE TABLE coupon_batches (
    id          uuid PRIMARY KEY,
    template_id uuid NOT NULL REFERENCES coupon_templates (id),
    pattern     text NOT NULL,
    count       int NOT NULL CHECK (count > 0),
    created_at  timestamptz NOT NULL,
    actor       text NOT NULL
);
CREATE INDEX coupon_batches_template ON coupon_batches (template_id, created_at DESC);

CREATE TABLE coupons (
    id          uuid PRIMARY KEY,
    code        text NOT NULL CONSTRAINT coupons_code_key UNIQUE,
    template_id uuid NOT NULL REFERENCES coupon_templates (id),
    version     int NOT NULL,
    terms       jsonb NOT NULL,
    -- NULL: a batch code not used yet (it belongs to whoever uses it first).
    member_id   uuid REFERENCES members (id),
    batch_id    uuid REFERENCES coupon_batches (id),
    channel     text NOT NULL CHECK (channel IN ('staff', 'claim', 'batch', 'shared')),
    status      text NOT NULL DEFAULT 'issued' CHECK (status IN ('issued', 'used', 'voided')),
    issued_at   timestamptz NOT NULL,
    valid_from  timestamptz NOT NULL,
    valid_until timestamptz NOT NULL,
    used_at     timestamptz,
    -- The purchase that used it (its row is written later in the same transaction).
    purchase_id uuid REFERENCES purchases (id) DEFERRABLE INITIALLY DEFERRED,
    voided_at   timestamptz,
    void_reason text,
    -- Its life: [{kind: issued|used|voided|restored, at, actor, ...}].
    history     jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX coupons_member ON coupons (member_id, issued_at DESC) WHERE member_id IS NOT NULL;
CREATE INDEX coupons_purchase ON coupons (purchase_id) WHERE purchase_id IS NOT NULL;
CREATE INDEX coupons_batch ON coupons (batch_id) WHERE batch_id IS NOT NULL;
CREATE INDEX coupons_template ON coupons (template_id);
