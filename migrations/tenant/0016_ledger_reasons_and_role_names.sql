-- Reasons the system writes on a ledger entry (a template's rate, a welcome bonus, money
-- off a purchase, an expiry, a refund), kept as a stable code and its values so that each
-- reader sees them in their own language, after any change of language too. `reason`
-- keeps the English words, and is all there is for a person's words (code NULL).
ALTER TABLE point_entries ADD COLUMN reason_code text, ADD COLUMN reason_params jsonb;

-- A role's name for people (「前台」), shown instead of its code.
ALTER TABLE roles ADD COLUMN display_name text NOT NULL DEFAULT '';
