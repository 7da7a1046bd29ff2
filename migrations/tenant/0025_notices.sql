-- Staff password resets by e-mail, portal notices with read marks, members' contact
-- preferences, scheduled notices, and e-mails held over the plan's monthly quota.

-- A reset link: only the token's hash is kept; it works once, until `expires_at`.
CREATE TABLE staff_password_resets (
    token_hash bytea PRIMARY KEY,
    staff_id   uuid NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX staff_password_resets_staff ON staff_password_resets (staff_id);

-- Every reset asked for, known address or not, for the per-address limit. The address is
-- kept as a keyed hash only (`address`), never in clear.
CREATE TABLE password_reset_requests (
    id         bigserial PRIMARY KEY,
    address    text NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX password_reset_requests_address ON password_reset_requests (address, created_at);

-- A notice on the portal (公告) for a period, to everyone or to members of some tiers.
CREATE TABLE notices (
    id         uuid PRIMARY KEY,
    title      text NOT NULL,
    body       text NOT NULL,
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz,
    -- Empty: every member; else the tiers (by key) whose members see it.
    tiers      text[] NOT NULL DEFAULT '{}',
    pinned     boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    updated_by text NOT NULL,
    CONSTRAINT notices_period CHECK (ends_at IS NULL OR ends_at > starts_at)
);
CREATE INDEX notices_period_idx ON notices (starts_at, ends_at);

CREATE TABLE notice_reads (
    notice_id uuid NOT NULL REFERENCES notices (id) ON DELETE CASCADE,
    member_id uuid NOT NULL REFERENCES members (id),
    read_at   timestamptz NOT NULL,
    PRIMARY KEY (member_id, notice_id)
);

-- A member's own choices about being written to; no row: the defaults (marketing e-mail on).
CREATE TABLE member_contact_preferences (
    member_id       uuid PRIMARY KEY REFERENCES members (id),
    marketing_email boolean NOT NULL,
    updated_at      timestamptz NOT NULL,
    -- `portal` or `unsubscribe` (the link in a marketing e-mail).
    updated_via     text NOT NULL
);

-- Messages a member has read in the portal's inbox.
ALTER TABLE deliveries ADD COLUMN read_at timestamptz;
CREATE INDEX deliveries_member ON deliveries (member_id, id) WHERE member_id IS NOT NULL;

-- Over the plan's monthly e-mail quota a message is held (not sent, not dropped), with the
-- reason in `last_error`.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
    CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'stopped', 'held'));

-- Scheduled notices the business switched on: one row per occasion (`birthday`,
-- `points.expiring`, `membership.ending`, `activity.reminder`), with its N days ahead.
CREATE TABLE scheduled_notices (
    occasion   text PRIMARY KEY,
    enabled    boolean NOT NULL,
    days_ahead int NOT NULL DEFAULT 0 CHECK (days_ahead BETWEEN 0 AND 90),
    updated_at timestamptz NOT NULL,
    updated_by text NOT NULL
);
