-- Two-factor codes (TOTP) for operators, with recovery codes (stored as SHA-256, good once).
ALTER TABLE platform.operators
    ADD COLUMN totp_secret         text,
    ADD COLUMN totp_pending_secret text,
    ADD COLUMN totp_enabled_at     timestamptz,
    ADD COLUMN totp_last_step      bigint;

CREATE TABLE platform.operator_recovery_codes (
    operator_id uuid NOT NULL REFERENCES platform.operators (id) ON DELETE CASCADE,
    code_hash   text NOT NULL,
    used_at     timestamptz,
    PRIMARY KEY (operator_id, code_hash)
);
