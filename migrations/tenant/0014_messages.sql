-- Messages and outgoing webhooks, through one outbox.
--
-- A change writes one row to `outbox` in its own transaction (so a rollback sends nothing).
-- The job runner later turns each row into `deliveries` (an e-mail to the member, a call to
-- each subscribed webhook endpoint), each under a unique key so a message goes out at most
-- once per (member, template, occasion) and a webhook once per (endpoint, event), and logs
-- every attempt in `delivery_attempts`.
CREATE TABLE outbox (
    id            bigserial PRIMARY KEY,
    event         text NOT NULL,
    member_id     uuid,
    -- What the event is about (`member:<id>`); webhooks number events per entity.
    entity        text NOT NULL,
    -- What makes the occasion unique for its member (an entry id, a tier and a day).
    occasion      text NOT NULL,
    data          jsonb NOT NULL,
    created_at    timestamptz NOT NULL,
    dispatched_at timestamptz,
    -- Set when dispatched: this event's place among its entity's events.
    sequence      bigint
);
CREATE INDEX outbox_waiting ON outbox (id) WHERE dispatched_at IS NULL;
CREATE INDEX outbox_created ON outbox (created_at);

CREATE TABLE entity_sequences (
    entity text PRIMARY KEY,
    last   bigint NOT NULL
);

-- A business's wording of one occasion, per channel and language.
CREATE TABLE message_templates (
    occasion   text NOT NULL,
    channel    text NOT NULL CHECK (channel IN ('email', 'sms')),
    locale     text NOT NULL CHECK (locale IN ('zh-CN', 'en')),
    subject    text NOT NULL DEFAULT '',
    body_text  text NOT NULL,
    body_html  text,
    enabled    boolean NOT NULL DEFAULT true,
    updated_at timestamptz NOT NULL,
    updated_by text NOT NULL,
    PRIMARY KEY (occasion, channel, locale)
);

CREATE TABLE webhook_endpoints (
    id              uuid PRIMARY KEY,
    url             text NOT NULL,
    description     text NOT NULL DEFAULT '',
    events          text[] NOT NULL,
    secret          text NOT NULL,
    -- The secret before the last rotation, still signed with until `previous_until`.
    previous_secret text,
    previous_until  timestamptz,
    enabled         boolean NOT NULL DEFAULT true,
    disabled_reason text,
    -- The first failure since the last success; sustained failure disables the endpoint.
    failing_since   timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);

CREATE TABLE deliveries (
    id          bigserial PRIMARY KEY,
    outbox_id   bigint REFERENCES outbox (id) ON DELETE CASCADE,
    channel     text NOT NULL CHECK (channel IN ('email', 'sms', 'webhook')),
    endpoint_id uuid REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    member_id   uuid,
    occasion    text,
    -- At most once per key: `email:<member>:<occasion>:<what>`, `webhook:<endpoint>:<outbox id>`.
    dedupe_key  text NOT NULL,
    recipient   text NOT NULL DEFAULT '',
    -- What is sent: the rendered e-mail, or the webhook's body.
    content     jsonb NOT NULL,
    status      text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'stopped')),
    attempts    int NOT NULL DEFAULT 0,
    next_at     timestamptz NOT NULL,
    locked_until timestamptz,
    last_error  text,
    created_at  timestamptz NOT NULL,
    sent_at     timestamptz,
    CONSTRAINT deliveries_once UNIQUE (dedupe_key)
);
CREATE INDEX deliveries_due ON deliveries (next_at) WHERE status IN ('pending', 'sending');
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, id);

CREATE TABLE delivery_attempts (
    id          bigserial PRIMARY KEY,
    delivery_id bigint NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    at          timestamptz NOT NULL,
    ok          boolean NOT NULL,
    -- The HTTP status an endpoint answered, or the SMTP server's reply code.
    status_code int,
    answer      text NOT NULL DEFAULT ''
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, id);
