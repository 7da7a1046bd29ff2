-- Members: the tenant's field schema versions, members with encrypted personal data,
-- cards and their history, the per-member audit log, the portal's codes and sessions, and
-- the SMS outbox.

CREATE TABLE field_schemas (
    version      int PRIMARY KEY,
    definition   jsonb NOT NULL,
    json_schema  jsonb NOT NULL,
    ui_schema    jsonb NOT NULL,
    mode         text NOT NULL,
    published_by text NOT NULL,
    published_at timestamptz NOT NULL
);

-- One row of member settings: card number format and its sequence.
CREATE TABLE member_settings (
    id          boolean PRIMARY KEY DEFAULT true CHECK (id),
    card_format jsonb NOT NULL,
    card_seq    bigint NOT NULL DEFAULT 0
);
INSERT INTO member_settings (card_format)
VALUES ('{"prefix": "8", "length": 12, "mode": "sequence", "luhn": true}');

CREATE TABLE members (
    id                uuid PRIMARY KEY,
    status            text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'erased')),
    name              text NOT NULL DEFAULT '',
    phone_enc         bytea,
    phone_key         smallint,
    phone_index       bytea,
    phone_verified_at timestamptz,
    email_enc         bytea,
    email_key         smallint,
    email_index       bytea,
    gender            text CHECK (gender IN ('female', 'male', 'other', 'undisclosed')),
    birthday          date,
    join_date         date NOT NULL,
    home_store        text,
    tags              text[] NOT NULL DEFAULT '{}',
    notes             text,
    referrer_id       uuid REFERENCES members (id) ON DELETE SET NULL,
    custom            jsonb NOT NULL DEFAULT '{}',
    channel           text NOT NULL,
    password_hash     text,
    failed_logins     int NOT NULL DEFAULT 0,
    locked_until      timestamptz,
    erased_at         timestamptz,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);
CREATE UNIQUE INDEX members_phone_key ON members (phone_index);
CREATE UNIQUE INDEX members_email_key ON members (email_index);
CREATE INDEX members_name_trgm ON members USING gin (name public.gin_trgm_ops);
CREATE INDEX members_tags ON members USING gin (tags);
CREATE INDEX members_custom ON members USING gin (custom jsonb_path_ops);
CREATE INDEX members_join_date ON members (join_date, id);
CREATE INDEX members_birthday ON members (birthday, id);
CREATE INDEX members_created ON members (created_at, id);

CREATE TABLE member_cards (
    number        text PRIMARY KEY,
    member_id     uuid NOT NULL REFERENCES members (id),
    status        text NOT NULL CHECK (status IN ('active', 'lost', 'blocked')),
    physical_code text UNIQUE,
    issued_at     timestamptz NOT NULL,
    replaced_by   text REFERENCES member_cards (number),
    changed_at    timestamptz NOT NULL
);
CREATE INDEX member_cards_member ON member_cards (member_id);
-- At most one card in use per member.
CREATE UNIQUE INDEX member_cards_one_active ON member_cards (member_id) WHERE status = 'active';

CREATE TABLE card_events (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number    text NOT NULL REFERENCES member_cards (number),
    member_id uuid NOT NULL,
    at        timestamptz NOT NULL,
    actor     text NOT NULL,
    event     text NOT NULL,
    detail    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX card_events_member ON card_events (member_id, id);

-- Append-only: who changed which field of a member, from what to what, through which channel.
CREATE TABLE member_audit (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    member_id uuid NOT NULL,
    at        timestamptz NOT NULL,
    actor     text NOT NULL,
    channel   text NOT NULL,
    action    text NOT NULL,
    field     text,
    before    jsonb,
    after     jsonb
);
CREATE INDEX member_audit_member ON member_audit (member_id, id);
CREATE FUNCTION member_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'member_audit is append-only';
END $$;
CREATE TRIGGER member_audit_no_change BEFORE UPDATE OR DELETE ON member_audit
    FOR EACH ROW EXECUTE FUNCTION member_audit_append_only();

-- One-time codes sent by SMS: registration, password reset, phone change.
CREATE TABLE member_codes (
    id          uuid PRIMARY KEY,
    purpose     text NOT NULL,
    phone_index bytea NOT NULL,
    code_hash   bytea NOT NULL,
    attempts    int NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX member_codes_lookup ON member_codes (phone_index, purpose, created_at);

CREATE TABLE member_sessions (
    id         uuid PRIMARY KEY,
    member_id  uuid NOT NULL REFERENCES members (id),
    token_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);

-- What the default SmsSender "sends": staff and tests read it.
CREATE TABLE sms_outbox (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    phone      text NOT NULL,
    body       text NOT NULL,
    purpose    text NOT NULL,
    created_at timestamptz NOT NULL
);
