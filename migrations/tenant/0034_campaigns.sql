-- Campaigns: a message to the members a search finds, by e-mail, SMS and the portal's
-- inbox, now or at a time; one row per member and channel it reached (or skipped), under a
-- unique key so a campaign is sent at most once per member and channel.

CREATE TABLE campaigns (
    id              uuid PRIMARY KEY,
    name            text NOT NULL,
    -- The audience: the member search as it was checked, and the filter as staff gave it.
    search          jsonb NOT NULL,
    filter          jsonb NOT NULL,
    channels        text[] NOT NULL,
    -- Per channel and language: {"email": {"zh-CN": {"subject", "body"}}, ...}.
    messages        jsonb NOT NULL,
    send_at         timestamptz,
    status          text NOT NULL
        CHECK (status IN ('scheduled', 'sending', 'done', 'stopped', 'cancelled')),
    stop_reason     text,
    -- The job's keyset through the audience (creation order).
    cursor_at       timestamptz,
    cursor_id       uuid,
    -- Taken from the plan's month when sending started; what was not used is given back.
    email_reserved  bigint NOT NULL DEFAULT 0,
    sms_reserved    bigint NOT NULL DEFAULT 0,
    email_used      bigint NOT NULL DEFAULT 0,
    sms_used        bigint NOT NULL DEFAULT 0,
    matched         bigint NOT NULL DEFAULT 0,
    done            bigint NOT NULL DEFAULT 0,
    idempotency_key text UNIQUE,
    request_hash    text NOT NULL,
    created_at      timestamptz NOT NULL,
    created_by      text NOT NULL,
    started_at      timestamptz,
    finished_at     timestamptz
);
CREATE INDEX campaigns_due ON campaigns (send_at) WHERE status IN ('scheduled', 'sending');

-- One row per member and channel: sent (with its delivery for e-mail and the inbox) or
-- skipped with the reason (`no_contact`, `opted_out`, `over_budget`, `quota`).
CREATE TABLE campaign_sends (
    campaign_id uuid NOT NULL REFERENCES campaigns (id),
    member_id   uuid NOT NULL REFERENCES members (id),
    channel     text NOT NULL CHECK (channel IN ('email', 'sms', 'inbox')),
    skipped     text CHECK (skipped IN ('no_contact', 'opted_out', 'over_budget', 'quota')),
    delivery_id bigint,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (campaign_id, member_id, channel)
);
-- The contact budget counts a member's campaign messages of the last days.
CREATE INDEX campaign_sends_member ON campaign_sends (member_id, created_at)
    WHERE skipped IS NULL;

-- The business's campaign settings (one row): at most `contact_budget` marketing messages
-- per member per 7 days across channels (NULL: no budget).
CREATE TABLE campaign_settings (
    id             boolean PRIMARY KEY DEFAULT true CHECK (id),
    contact_budget int CHECK (contact_budget BETWEEN 1 AND 100),
    updated_at     timestamptz NOT NULL,
    updated_by     text NOT NULL
);

-- Marketing text messages: `member_contact_preferences.marketing_sms` (0033).

-- A campaign's portal-inbox message is a delivery of channel `inbox`, written as sent.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_channel_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_channel_check
    CHECK (channel IN ('email', 'sms', 'webhook', 'inbox'));
