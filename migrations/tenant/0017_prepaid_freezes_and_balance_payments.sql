-- Prepaid, continued: passes can be frozen (paused) like memberships, and a sale (a
-- membership, its renewal, a pass) can be paid from stored value.

-- A pass frozen from `frozen_from` to `frozen_until` (local days, both included) cannot be
-- used on those days; its last day moved by the frozen days.
ALTER TABLE member_passes ADD COLUMN frozen_from date, ADD COLUMN frozen_until date;

CREATE TABLE pass_freezes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pass_id     uuid NOT NULL REFERENCES member_passes (id),
    starts_on   date NOT NULL,
    -- The days it counts against the yearly allowance (fewer when unfrozen early).
    days        int NOT NULL CHECK (days >= 0),
    year_index  int NOT NULL,
    at          timestamptz NOT NULL,
    actor       text NOT NULL,
    ended_at    timestamptz,
    ended_by    text
);
CREATE INDEX pass_freezes_of ON pass_freezes (pass_id, year_index);

-- A charge paid from (or refunded to) stored value: what it took of each sub-ledger
-- (negative when it put back).
ALTER TABLE charges ADD COLUMN principal bigint NOT NULL DEFAULT 0,
                    ADD COLUMN bonus bigint NOT NULL DEFAULT 0;

-- The charge a stored-value entry paid or refunded. Deferred: the entry is written before
-- the charge row, in the same transaction.
ALTER TABLE stored_value_entries
    ADD COLUMN charge_id uuid REFERENCES charges (id) DEFERRABLE INITIALLY DEFERRED;
CREATE INDEX stored_value_entries_charge ON stored_value_entries (charge_id)
    WHERE charge_id IS NOT NULL;
