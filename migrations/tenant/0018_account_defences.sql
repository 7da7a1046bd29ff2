-- Account defences: two-factor codes (TOTP) with recovery codes, the login history, and the
-- business's security settings.

ALTER TABLE staff
    ADD COLUMN totp_secret         text,
    ADD COLUMN totp_pending_secret text,
    ADD COLUMN totp_enabled_at     timestamptz,
    -- The last time step a code was accepted for: a code is good once.
    ADD COLUMN totp_last_step      bigint;

-- Stored as SHA-256 of the code; each is good once.
CREATE TABLE staff_recovery_codes (
    staff_id  uuid NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    code_hash text NOT NULL,
    used_at   timestamptz,
    PRIMARY KEY (staff_id, code_hash)
);

CREATE TABLE staff_logins (
    id         uuid PRIMARY KEY,
    staff_id   uuid NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    at         timestamptz NOT NULL,
    ip         text,
    user_agent text,
    -- core::security::device_key: the user agent and the address's network.
    device     text NOT NULL,
    success    boolean NOT NULL,
    -- password, totp, recovery_code
    method     text NOT NULL,
    -- Why a failed attempt failed: wrong_password, code_required, wrong_code, locked, disabled.
    failure    text
);
CREATE INDEX staff_logins_by_staff ON staff_logins (staff_id, at DESC);

-- One row: the business's security settings.
CREATE TABLE security_settings (
    id                 boolean PRIMARY KEY DEFAULT true CHECK (id),
    owners_require_2fa boolean NOT NULL DEFAULT false,
    updated_at         timestamptz NOT NULL DEFAULT now()
);
