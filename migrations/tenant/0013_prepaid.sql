-- Prepaid: stored value (principal and bonus, two append-only sub-ledgers and a balance row
-- whose CHECKs keep each side from going below zero), visit passes, membership plans and
-- the charge records of money the business took at the counter (recorded, never charged
-- by us). Money is in minor units.

CREATE TABLE prepaid_settings (
    id                   boolean PRIMARY KEY DEFAULT true CHECK (id),
    spend_order          text NOT NULL DEFAULT 'pro_rata'
                         CHECK (spend_order IN ('pro_rata', 'bonus_first', 'principal_first')),
    bonus_rule           jsonb NOT NULL DEFAULT '{"kind": "none"}',
    -- The most one member may hold (principal + bonus); none when NULL.
    balance_cap          bigint CHECK (balance_cap > 0),
    freeze_days_per_year int NOT NULL DEFAULT 30 CHECK (freeze_days_per_year >= 0),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
INSERT INTO prepaid_settings DEFAULT VALUES;

CREATE TABLE stored_value_balances (
    member_id  uuid PRIMARY KEY REFERENCES members (id),
    principal  bigint NOT NULL DEFAULT 0 CONSTRAINT stored_value_principal_covered CHECK (principal >= 0),
    bonus      bigint NOT NULL DEFAULT 0 CONSTRAINT stored_value_bonus_covered CHECK (bonus >= 0),
    updated_at timestamptz NOT NULL
);

CREATE TABLE top_ups (
    id                 uuid PRIMARY KEY,
    member_id          uuid NOT NULL REFERENCES members (id),
    principal          bigint NOT NULL CHECK (principal > 0),
    bonus              bigint NOT NULL CHECK (bonus >= 0),
    method             text NOT NULL,
    receipt            text NOT NULL DEFAULT '',
    at                 timestamptz NOT NULL,
    actor              text NOT NULL,
    refunded_at        timestamptz,
    refunded_principal bigint,
    forfeited_bonus    bigint
);
CREATE INDEX top_ups_member ON top_ups (member_id, at DESC);

-- The two sub-ledgers: every change of a member's principal or bonus, signed, with the
-- sub-ledger's balance after it. Append-only.
CREATE TABLE stored_value_entries (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    member_id   uuid NOT NULL REFERENCES members (id),
    ledger      text NOT NULL CHECK (ledger IN ('principal', 'bonus')),
    kind        text NOT NULL CHECK (kind IN ('top_up', 'spend', 'refund', 'top_up_refund', 'included')),
    amount      bigint NOT NULL CHECK (amount <> 0),
    balance     bigint NOT NULL CHECK (balance >= 0),
    top_up_id   uuid REFERENCES top_ups (id),
    -- Deferred: a purchase is paid (a refund paid back) before its row is written, in the
    -- same transaction.
    purchase_id uuid REFERENCES purchases (id) DEFERRABLE INITIALLY DEFERRED,
    refund_id   uuid REFERENCES refunds (id) DEFERRABLE INITIALLY DEFERRED,
    reason      text NOT NULL DEFAULT '',
    actor       text NOT NULL,
    at          timestamptz NOT NULL
);
CREATE INDEX stored_value_entries_member ON stored_value_entries (member_id, id);
CREATE FUNCTION stored_value_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'stored_value_entries is append-only';
END $$;
CREATE TRIGGER stored_value_entries_no_change BEFORE UPDATE OR DELETE ON stored_value_entries
    FOR EACH ROW EXECUTE FUNCTION stored_value_entries_append_only();

-- How a purchase was paid: one row per method; stored value records what it took of each
-- sub-ledger and what refunds have put back.
CREATE TABLE purchase_payments (
    purchase_id        uuid NOT NULL REFERENCES purchases (id),
    method             text NOT NULL CHECK (method IN ('stored_value', 'cash', 'card', 'wechat', 'alipay', 'bank_transfer')),
    amount             bigint NOT NULL CHECK (amount > 0),
    principal          bigint NOT NULL DEFAULT 0,
    bonus              bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (purchase_id, method)
);

-- Idempotent prepaid writes (top-ups, refunds of top-ups, pass consumptions...): the
-- first answer under (scope, key).
CREATE TABLE prepaid_requests (
    scope        text NOT NULL,
    key          text NOT NULL,
    request_hash bytea NOT NULL,
    response     jsonb NOT NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (scope, key)
);

-- Visit passes (次卡).
CREATE TABLE pass_products (
    id            uuid PRIMARY KEY,
    name          text NOT NULL,
    visits        int NOT NULL CHECK (visits > 0),
    validity_days int CHECK (validity_days > 0),
    categories    text[] NOT NULL DEFAULT '{}',
    price         bigint NOT NULL CHECK (price >= 0),
    archived      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL
);

CREATE TABLE member_passes (
    id           uuid PRIMARY KEY,
    member_id    uuid NOT NULL REFERENCES members (id),
    product_id   uuid NOT NULL REFERENCES pass_products (id),
    visits_total int NOT NULL CHECK (visits_total > 0),
    visits_left  int NOT NULL CONSTRAINT member_passes_visits_left CHECK (visits_left >= 0 AND visits_left <= visits_total),
    starts_on    date NOT NULL,
    -- The last day it can be used; none when it never expires.
    expires_on   date,
    sold_at      timestamptz NOT NULL,
    actor        text NOT NULL
);
CREATE INDEX member_passes_member ON member_passes (member_id, sold_at DESC);

CREATE TABLE pass_uses (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pass_id     uuid NOT NULL REFERENCES member_passes (id),
    key         text NOT NULL,
    category    text NOT NULL DEFAULT '',
    at          timestamptz NOT NULL,
    actor       text NOT NULL,
    reversed_at timestamptz,
    reversed_by text,
    reason      text,
    UNIQUE (pass_id, key)
);

-- Membership plans (fee standards) and memberships.
CREATE TABLE membership_plans (
    id              uuid PRIMARY KEY,
    name            text NOT NULL,
    price           bigint NOT NULL CHECK (price >= 0),
    period_unit     text NOT NULL CHECK (period_unit IN ('month', 'quarter', 'year', 'days')),
    period_days     int CHECK (period_days > 0),
    tier            text,
    pass_product_id uuid REFERENCES pass_products (id),
    stored_value    bigint NOT NULL DEFAULT 0 CHECK (stored_value >= 0),
    archived        boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL
);

CREATE TABLE memberships (
    id           uuid PRIMARY KEY,
    member_id    uuid NOT NULL REFERENCES members (id),
    plan_id      uuid NOT NULL REFERENCES membership_plans (id),
    starts_on    date NOT NULL,
    ends_on      date NOT NULL,
    status       text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'cancelled')),
    paid         bigint NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL,
    cancelled_at timestamptz
);
CREATE INDEX memberships_member ON memberships (member_id, ends_on DESC);
CREATE INDEX memberships_ending ON memberships (ends_on) WHERE status = 'active';

CREATE TABLE membership_freezes (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    membership_id uuid NOT NULL REFERENCES memberships (id),
    starts_on     date NOT NULL,
    days          int NOT NULL CHECK (days > 0),
    year_index    int NOT NULL,
    at            timestamptz NOT NULL,
    actor         text NOT NULL
);
CREATE INDEX membership_freezes_of ON membership_freezes (membership_id, year_index);

-- Money the business took or gave back at the counter, as recorded: top-ups, memberships,
-- renewals, passes, and their refunds (negative).
CREATE TABLE charges (
    id            uuid PRIMARY KEY,
    member_id     uuid NOT NULL REFERENCES members (id),
    kind          text NOT NULL CHECK (kind IN ('top_up', 'top_up_refund', 'membership', 'renewal', 'membership_refund', 'pass')),
    amount        bigint NOT NULL,
    method        text NOT NULL CHECK (method IN ('cash', 'card', 'wechat', 'alipay', 'bank_transfer', 'stored_value')),
    receipt       text NOT NULL DEFAULT '',
    staff         text NOT NULL,
    plan_id       uuid REFERENCES membership_plans (id),
    membership_id uuid REFERENCES memberships (id),
    pass_id       uuid REFERENCES member_passes (id),
    top_up_id     uuid REFERENCES top_ups (id),
    at            timestamptz NOT NULL
);
CREATE INDEX charges_at ON charges (at DESC, id);
CREATE INDEX charges_member ON charges (member_id, at DESC);
