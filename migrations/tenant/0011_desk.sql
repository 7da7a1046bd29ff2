-- The front desk finds a member by the last four digits of their phone. Phones are sealed,
-- so the four digits get a blind index of their own (the same keyed hash as the phone's,
-- under another purpose). The key lives in the server, not here: rows are filled by the
-- application, on member create and phone change, and for members older than this column
-- the first time a last-four lookup runs. `phone_last4_of` is the phone index the digits
-- were taken from; a row whose phone index differs (a new phone, an erased member, a row
-- written before this column) is due for a refill, and the partial index finds those.

ALTER TABLE members
    ADD COLUMN phone_last4_index bytea,
    ADD COLUMN phone_last4_of bytea;

CREATE INDEX members_phone_last4 ON members (phone_last4_index)
    WHERE phone_last4_index IS NOT NULL;
CREATE INDEX members_phone_last4_due ON members (id)
    WHERE phone_last4_of IS DISTINCT FROM phone_index;
