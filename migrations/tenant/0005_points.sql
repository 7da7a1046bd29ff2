-- Points: the tenant's point settings, point rules and their versions, purchases and refunds,
-- the append-only ledger with its lots, debts, and the other ways to earn (check-ins,
-- referrals, custom events).

-- One row of point settings (see docs/points.md).
CREATE TABLE points_settings (
    id         boolean PRIMARY KEY DEFAULT true CHECK (id),
    settings   jsonb NOT NULL,
    updated_at timestamptz NOT NULL,
    updated_by text NOT NULL
);
INSERT INTO points_settings (settings, updated_at, updated_by)
VALUES ('{}', now(), 'system');

-- Every published version of every rule; `version` is unique across triggers so
-- (tenant, version) names one script.
CREATE TABLE rule_versions (
    version      int PRIMARY KEY,
    trigger      text NOT NULL,
    script       text NOT NULL,
    template     jsonb,
    note         text NOT NULL DEFAULT '',
    published_by text NOT NULL,
    published_at timestamptz NOT NULL
);
CREATE INDEX rule_versions_trigger ON rule_versions (trigger, version);

-- The version in force per trigger.
CREATE TABLE rule_active (
    trigger      text PRIMARY KEY,
    version      int NOT NULL REFERENCES rule_versions (version),
    activated_by text NOT NULL,
    activated_at timestamptz NOT NULL
);

-- The working draft per trigger.
CREATE TABLE rule_drafts (
    trigger    text PRIMARY KEY,
    script     text NOT NULL,
    template   jsonb,
    updated_by text NOT NULL,
    updated_at timestamptz NOT NULL
);

-- One row per member: the balance (always the sum of the member's entries), the open debt,
-- and running totals the rules see. Locked for every change to the member's points.
CREATE TABLE point_accounts (
    member_id      uuid PRIMARY KEY REFERENCES members (id),
    balance        bigint NOT NULL DEFAULT 0,
    debt           bigint NOT NULL DEFAULT 0 CHECK (debt >= 0),
    earned_total   bigint NOT NULL DEFAULT 0,
    redeemed_total bigint NOT NULL DEFAULT 0,
    expired_total  bigint NOT NULL DEFAULT 0,
    spend_total    bigint NOT NULL DEFAULT 0,
    visits         bigint NOT NULL DEFAULT 0,
    day            date,
    day_points     bigint NOT NULL DEFAULT 0,
    last_check_in  date,
    streak         int NOT NULL DEFAULT 0,
    updated_at     timestamptz NOT NULL
);

CREATE TABLE purchases (
    id            uuid PRIMARY KEY,
    external_id   text NOT NULL UNIQUE,
    request_hash  bytea NOT NULL,
    member_id     uuid NOT NULL REFERENCES members (id),
    amount        bigint NOT NULL CHECK (amount >= 0),
    currency      text NOT NULL,
    items         jsonb NOT NULL DEFAULT '[]',
    store         text NOT NULL DEFAULT '',
    occurred_at   timestamptz NOT NULL,
    recorded_at   timestamptz NOT NULL,
    recorded_by   text NOT NULL,
    points        bigint NOT NULL,
    reasons       jsonb NOT NULL DEFAULT '[]',
    rule_version  int,
    rule_error    jsonb,
    refunded      bigint NOT NULL DEFAULT 0,
    reversed      bigint NOT NULL DEFAULT 0,
    entry_id      bigint,
    response      jsonb NOT NULL
);
CREATE INDEX purchases_member ON purchases (member_id, occurred_at DESC, id);
CREATE INDEX purchases_recorded ON purchases (recorded_at DESC, id);

CREATE TABLE refunds (
    id           uuid PRIMARY KEY,
    external_id  text NOT NULL UNIQUE,
    request_hash bytea NOT NULL,
    purchase_id  uuid NOT NULL REFERENCES purchases (id),
    amount       bigint NOT NULL CHECK (amount > 0),
    points       bigint NOT NULL,
    debt         bigint NOT NULL DEFAULT 0,
    recorded_at  timestamptz NOT NULL,
    recorded_by  text NOT NULL,
    response     jsonb NOT NULL
);
CREATE INDEX refunds_purchase ON refunds (purchase_id);

-- The ledger: append-only. `points` is signed; `balance` is the member's balance after it.
CREATE TABLE point_entries (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    member_id    uuid NOT NULL REFERENCES members (id),
    kind         text NOT NULL CHECK (kind IN ('earn', 'redeem', 'expire', 'adjust', 'reverse')),
    points       bigint NOT NULL,
    balance      bigint NOT NULL,
    source       text NOT NULL,
    source_id    text NOT NULL,
    rule_version int,
    reason       text NOT NULL DEFAULT '',
    detail       jsonb,
    actor        text NOT NULL,
    at           timestamptz NOT NULL
);
CREATE INDEX point_entries_member ON point_entries (member_id, id);
CREATE INDEX point_entries_at ON point_entries (at);
CREATE FUNCTION point_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'point_entries is append-only';
END $$;
CREATE TRIGGER point_entries_no_change BEFORE UPDATE OR DELETE ON point_entries
    FOR EACH ROW EXECUTE FUNCTION point_entries_append_only();

-- Earned points, each with its expiry; redemptions take from the soonest-expiring first.
CREATE TABLE point_lots (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    member_id  uuid NOT NULL REFERENCES members (id),
    entry_id   bigint NOT NULL REFERENCES point_entries (id),
    points     bigint NOT NULL CHECK (points > 0),
    remaining  bigint NOT NULL CHECK (remaining >= 0 AND remaining <= points),
    earned_at  timestamptz NOT NULL,
    expires_at timestamptz
);
CREATE INDEX point_lots_open ON point_lots (member_id, expires_at, id) WHERE remaining > 0;
CREATE INDEX point_lots_expiring ON point_lots (expires_at) WHERE remaining > 0 AND expires_at IS NOT NULL;

-- Points owed after a refund took back points already spent (when the tenant records
-- shortfalls as debt); settled by the next earnings, oldest first.
CREATE TABLE point_debts (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    member_id  uuid NOT NULL REFERENCES members (id),
    refund_id  uuid NOT NULL REFERENCES refunds (id),
    points     bigint NOT NULL CHECK (points > 0),
    settled    bigint NOT NULL DEFAULT 0 CHECK (settled >= 0 AND settled <= points),
    created_at timestamptz NOT NULL
);
CREATE INDEX point_debts_open ON point_debts (member_id, id) WHERE settled < points;

-- Idempotent requests other than purchases and refunds (redemptions, adjustments, events):
-- the first answer, replayed for a retry with the same key and body.
CREATE TABLE point_requests (
    scope        text NOT NULL,
    key          text NOT NULL,
    request_hash bytea NOT NULL,
    response     jsonb NOT NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (scope, key)
);

CREATE TABLE check_ins (
    member_id uuid NOT NULL REFERENCES members (id),
    day       date NOT NULL,
    streak    int NOT NULL,
    points    bigint NOT NULL,
    at        timestamptz NOT NULL,
    PRIMARY KEY (member_id, day)
);

-- At most one referral reward per referred member.
CREATE TABLE referral_rewards (
    referred_id uuid PRIMARY KEY REFERENCES members (id),
    referrer_id uuid NOT NULL REFERENCES members (id),
    purchase_id uuid NOT NULL REFERENCES purchases (id),
    points      bigint NOT NULL,
    at          timestamptz NOT NULL
);

CREATE TABLE custom_events (
    id          uuid PRIMARY KEY,
    external_id text NOT NULL UNIQUE,
    request_hash bytea NOT NULL,
    member_id   uuid NOT NULL REFERENCES members (id),
    name        text NOT NULL,
    amount      bigint NOT NULL DEFAULT 0,
    properties  jsonb NOT NULL DEFAULT '{}',
    occurred_at timestamptz NOT NULL,
    points      bigint NOT NULL,
    rule_version int,
    rule_error  jsonb,
    recorded_at timestamptz NOT NULL,
    response    jsonb NOT NULL
);
CREATE INDEX custom_events_member ON custom_events (member_id, occurred_at DESC);
