-- How many text messages each phone number was sent lately, to hold the per-number limits
-- (one code a minute, a few an hour, a daily cap) in one conditional statement. The number
-- is its keyed hash (the PII index), never the number itself.
CREATE TABLE sms_number_limits (
    phone_index bytea PRIMARY KEY,
    last_at     timestamptz NOT NULL,
    hour_from   timestamptz NOT NULL,
    hour_count  int NOT NULL,
    day_from    timestamptz NOT NULL,
    day_count   int NOT NULL
);

-- Marketing text messages: on unless the member turned them off (portal, or a reply STOP).
ALTER TABLE member_contact_preferences ADD COLUMN marketing_sms boolean;

-- E-mail addresses the mail server refused for good (a 5xx at RCPT or DATA), by their
-- keyed hash: marketing e-mails to them are skipped. A member's new address starts clean.
CREATE TABLE email_bounces (
    email_index bytea PRIMARY KEY,
    at          timestamptz NOT NULL,
    reason      text NOT NULL
);
