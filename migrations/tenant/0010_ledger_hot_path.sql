-- The purchase path writes an entry, its lot and the purchase under the lock on the member's
-- account row. Their foreign keys to `members` (and the lot's to its entry, written by the
-- same statement) cost a lookup and a share lock on the member's row per row written, every
-- time; the account row they are written under already references the member (members are
-- never deleted: erasure blanks them in place). `patron verify` reports any entry, lot or
-- purchase whose member has no account.
ALTER TABLE point_entries DROP CONSTRAINT point_entries_member_id_fkey;
ALTER TABLE point_lots DROP CONSTRAINT point_lots_member_id_fkey;
ALTER TABLE point_lots DROP CONSTRAINT point_lots_entry_id_fkey;
ALTER TABLE purchases DROP CONSTRAINT purchases_member_id_fkey;
