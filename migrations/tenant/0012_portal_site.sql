-- The member portal's own page: what the business shows members (logo, address, opening
-- hours) and its privacy terms, versioned so each consent names the text it agreed to.
-- One row per business.
CREATE TABLE portal_settings (
    id              boolean PRIMARY KEY DEFAULT true CHECK (id),
    logo_url        text NOT NULL DEFAULT '',
    address         text NOT NULL DEFAULT '',
    opening_hours   text NOT NULL DEFAULT '',
    privacy_text    text NOT NULL DEFAULT '',
    -- 0 until terms are first saved; each change of the text adds one.
    privacy_version int NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL,
    updated_by      text NOT NULL
);

-- Consent to the privacy terms (PIPL): which version a member agreed to, when, and where.
CREATE TABLE member_consents (
    id        bigserial PRIMARY KEY,
    member_id uuid NOT NULL REFERENCES members (id),
    version   int NOT NULL CHECK (version > 0),
    at        timestamptz NOT NULL,
    channel   text NOT NULL
);
CREATE INDEX member_consents_member ON member_consents (member_id, at);
